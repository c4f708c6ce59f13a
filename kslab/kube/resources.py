"""The Kubernetes resource types kslab reads and writes (sources: docs/upstream-sources.md), as data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceRef:
    api_version: str  # "v1", "apps/v1", "serving.kserve.io/v1beta1"
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def describe(self, name: str, namespace: str | None = None) -> str:
        """kubectl-style 'inferenceservice.serving.kserve.io/sklearn-iris -n kserve-test'."""
        singular = self.kind.lower() + (f".{self.group}" if self.group else "")
        where = f" -n {namespace}" if namespace and self.namespaced else ""
        return f"{singular}/{name}{where}"


NAMESPACE = ResourceRef("v1", "Namespace", "namespaces", namespaced=False)
NODE = ResourceRef("v1", "Node", "nodes", namespaced=False)
POD = ResourceRef("v1", "Pod", "pods")
SERVICE = ResourceRef("v1", "Service", "services")
ENDPOINTS = ResourceRef("v1", "Endpoints", "endpoints")
EVENT = ResourceRef("v1", "Event", "events")
CONFIGMAP = ResourceRef("v1", "ConfigMap", "configmaps")
SECRET = ResourceRef("v1", "Secret", "secrets")
SERVICE_ACCOUNT = ResourceRef("v1", "ServiceAccount", "serviceaccounts")
PVC = ResourceRef("v1", "PersistentVolumeClaim", "persistentvolumeclaims")
DEPLOYMENT = ResourceRef("apps/v1", "Deployment", "deployments")
HPA = ResourceRef("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers")
INGRESS = ResourceRef("networking.k8s.io/v1", "Ingress", "ingresses")
INGRESS_CLASS = ResourceRef("networking.k8s.io/v1", "IngressClass", "ingressclasses", namespaced=False)
CRD = ResourceRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions",
                  namespaced=False)
INFERENCE_SERVICE = ResourceRef("serving.kserve.io/v1beta1", "InferenceService", "inferenceservices")
SERVING_RUNTIME = ResourceRef("serving.kserve.io/v1alpha1", "ServingRuntime", "servingruntimes")
CLUSTER_SERVING_RUNTIME = ResourceRef("serving.kserve.io/v1alpha1", "ClusterServingRuntime",
                                      "clusterservingruntimes", namespaced=False)
KNATIVE_SERVICE = ResourceRef("serving.knative.dev/v1", "Service", "services")
KNATIVE_REVISION = ResourceRef("serving.knative.dev/v1", "Revision", "revisions")
KNATIVE_SERVING = ResourceRef("operator.knative.dev/v1beta1", "KnativeServing", "knativeservings")
KNATIVE_ROUTE = ResourceRef("serving.knative.dev/v1", "Route", "routes")
KNATIVE_CONFIGURATION = ResourceRef("serving.knative.dev/v1", "Configuration", "configurations")
POD_AUTOSCALER = ResourceRef("autoscaling.internal.knative.dev/v1alpha1", "PodAutoscaler", "podautoscalers")
JOB = ResourceRef("batch/v1", "Job", "jobs")
