"""The resource types the fake API server knows: group, version, plural, kind, scope, short names.

Names, kinds and short names follow the real API groups (facts file §5.4); discovery documents and
URL routing are both generated from this one table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    has_status: bool = True  # has a /status subresource
    categories: tuple[str, ...] = ()
    extra_subresources: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        """Storage key: '<group>/<plural>' ('/pods' for core)."""
        return f"{self.group}/{self.plural}"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def is_custom(self) -> bool:
        """True for CRD-backed types (no strategic merge patch on a real apiserver)."""
        return "." in self.group and not self.group.endswith(".k8s.io")


def _core(plural: str, kind: str, namespaced: bool = True, short: tuple[str, ...] = (), status: bool = False,
          sub: tuple[str, ...] = ()) -> ResourceType:
    return ResourceType("", "v1", plural, kind, namespaced, short, status, extra_subresources=sub)


RESOURCES: tuple[ResourceType, ...] = (
    _core("namespaces", "Namespace", namespaced=False, short=("ns",), status=True),
    _core("pods", "Pod", short=("po",), status=True, sub=("log", "proxy", "portforward", "exec")),
    _core("services", "Service", short=("svc",), status=True, sub=("proxy",)),
    _core("endpoints", "Endpoints", short=("ep",)),
    _core("events", "Event", short=("ev",)),
    _core("configmaps", "ConfigMap", short=("cm",)),
    _core("secrets", "Secret"),
    _core("serviceaccounts", "ServiceAccount", short=("sa",)),
    _core("persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",), status=True),
    _core("nodes", "Node", namespaced=False, short=("no",), status=True),
    ResourceType("apps", "v1", "deployments", "Deployment", True, ("deploy",), extra_subresources=("scale",)),
    ResourceType("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",), extra_subresources=("scale",)),
    ResourceType("batch", "v1", "jobs", "Job", True),
    ResourceType("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, ("hpa",)),
    ResourceType("networking.k8s.io", "v1", "ingresses", "Ingress", True, ("ing",)),
    ResourceType("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False, (), has_status=False),
    ResourceType("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False,
                 ("crd", "crds")),
    ResourceType("serving.kserve.io", "v1beta1", "inferenceservices", "InferenceService", True, ("isvc",),
                 categories=("all",)),
    ResourceType("serving.kserve.io", "v1alpha1", "servingruntimes", "ServingRuntime", True),
    ResourceType("serving.kserve.io", "v1alpha1", "clusterservingruntimes", "ClusterServingRuntime", False),
    ResourceType("serving.kserve.io", "v1alpha1", "inferencegraphs", "InferenceGraph", True, ("ig",)),
    ResourceType("serving.knative.dev", "v1", "services", "Service", True, ("kservice", "ksvc"),
                 categories=("all", "knative", "serving")),
    ResourceType("serving.knative.dev", "v1", "revisions", "Revision", True, ("rev",),
                 categories=("all", "knative", "serving")),
    ResourceType("serving.knative.dev", "v1", "routes", "Route", True, ("rt",),
                 categories=("all", "knative", "serving")),
    ResourceType("serving.knative.dev", "v1", "configurations", "Configuration", True, ("config", "cfg"),
                 categories=("all", "knative", "serving")),
    ResourceType("autoscaling.internal.knative.dev", "v1alpha1", "podautoscalers", "PodAutoscaler", True,
                 ("kpa", "pa")),
    ResourceType("operator.knative.dev", "v1beta1", "knativeservings", "KnativeServing", True, ("ks",)),
    ResourceType("networking.istio.io", "v1beta1", "virtualservices", "VirtualService", True, ("vs",)),
    ResourceType("networking.istio.io", "v1beta1", "gateways", "Gateway", True, ("gw",)),
    ResourceType("cert-manager.io", "v1", "certificates", "Certificate", True, ("cert", "certs")),
    ResourceType("cert-manager.io", "v1", "issuers", "Issuer", True),
)

_BY_KEY = {r.key: r for r in RESOURCES}


def by_key(key: str) -> ResourceType:
    return _BY_KEY[key]


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    """The type served at /api(s)/<group>/<version>/<plural>, or None."""
    rt = _BY_KEY.get(f"{group}/{plural}")
    if rt is None or rt.version != version:
        return None
    return rt


def for_kind(api_version: str, kind: str) -> ResourceType | None:
    for rt in RESOURCES:
        if rt.api_version == api_version and rt.kind == kind:
            return rt
    return None


def group_versions() -> dict[str, list[str]]:
    """{group: [versions]} for every group (core group under "")."""
    out: dict[str, list[str]] = {}
    for rt in RESOURCES:
        versions = out.setdefault(rt.group, [])
        if rt.version not in versions:
            versions.append(rt.version)
    return out


# Named handles for the types tests and controllers use most (one definition instead of one per module).
NAMESPACES = by_key("/namespaces")
NODES = by_key("/nodes")
PODS = by_key("/pods")
SERVICES = by_key("/services")
ENDPOINTS = by_key("/endpoints")
EVENTS = by_key("/events")
CONFIGMAPS = by_key("/configmaps")
SECRETS = by_key("/secrets")
SERVICEACCOUNTS = by_key("/serviceaccounts")
PVCS = by_key("/persistentvolumeclaims")
DEPLOYMENTS = by_key("apps/deployments")
REPLICASETS = by_key("apps/replicasets")
HPAS = by_key("autoscaling/horizontalpodautoscalers")
INGRESSES = by_key("networking.k8s.io/ingresses")
INGRESSCLASSES = by_key("networking.k8s.io/ingressclasses")
ISVCS = by_key("serving.kserve.io/inferenceservices")
SERVING_RUNTIMES = by_key("serving.kserve.io/servingruntimes")
CLUSTER_RUNTIMES = by_key("serving.kserve.io/clusterservingruntimes")
KSVCS = by_key("serving.knative.dev/services")
REVISIONS = by_key("serving.knative.dev/revisions")
ROUTES = by_key("serving.knative.dev/routes")
CONFIGURATIONS = by_key("serving.knative.dev/configurations")
PODAUTOSCALERS = by_key("autoscaling.internal.knative.dev/podautoscalers")
KNATIVE_SERVINGS = by_key("operator.knative.dev/knativeservings")
VIRTUAL_SERVICES = by_key("networking.istio.io/virtualservices")
