"""What the KServe stand-ins read from ConfigMap kserve/inferenceservice-config (facts §2.6).

Also the deployment-mode vocabulary per version: <=0.15 Serverless/RawDeployment/ModelMesh,
0.16+ Knative/Standard/ModelMesh with the legacy names accepted and normalised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..store import Store
from .common import configmap_data
from .settings import ControllerSettings

Obj = dict[str, Any]
KSERVE_NS = "kserve"
CONFIG_NAME = "inferenceservice-config"
MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
KNATIVE, STANDARD, MODELMESH = "knative", "standard", "modelmesh"  # canonical kinds used internally
_LEGACY = {"Serverless": KNATIVE, "RawDeployment": STANDARD, "ModelMesh": MODELMESH}
_MODERN = {"Knative": KNATIVE, "Standard": STANDARD, "ModelMesh": MODELMESH}
DISALLOWED_ANNOTATIONS = ("autoscaling.knative.dev/min-scale", "autoscaling.knative.dev/max-scale",
                          "internal.serving.kserve.io/storage-initializer-sourceuri",
                          "kubectl.kubernetes.io/last-applied-configuration", "modelFormat")


def mode_kind(name: str | None, settings: ControllerSettings) -> str | None:
    """Canonical kind of a mode name as this KServe version understands it (None: not a valid name)."""
    if not name:
        return None
    if settings.kserve_at_least("0.16"):
        return _MODERN.get(name) or _LEGACY.get(name)
    return _LEGACY.get(name)


def mode_name(kind: str, settings: ControllerSettings) -> str:
    """How this KServe version spells a mode in status and annotations."""
    if kind == MODELMESH:
        return "ModelMesh"
    return settings.knative_mode_name if kind == KNATIVE else settings.standard_mode_name


@dataclass
class IsvcConfig:
    default_mode: str = "Serverless"  # raw value of deploy.defaultDeploymentMode
    ingress_domain: str = "example.com"
    domain_template: str = "{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}"
    url_scheme: str = "http"
    ingress_class: str = "istio"
    disable_ingress_creation: bool = False
    service_cluster_ip_none: bool = False
    storage_initializer_image: str = ""
    resource_defaults: Obj = field(default_factory=lambda: {
        "requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}})

    @classmethod
    def load(cls, store: Store, settings: ControllerSettings) -> IsvcConfig:
        data = configmap_data(store, KSERVE_NS, CONFIG_NAME) or {}
        cfg = cls(storage_initializer_image=f"kserve/storage-initializer:{settings.image_tag()}")
        deploy = _json(data.get("deploy"))
        cfg.default_mode = str(deploy.get("defaultDeploymentMode") or "Serverless")
        cfg.service_cluster_ip_none = bool(deploy.get("serviceClusterIPNone", False))
        ingress = _json(data.get("ingress"))
        cfg.ingress_domain = str(ingress.get("ingressDomain") or cfg.ingress_domain)
        cfg.domain_template = str(ingress.get("domainTemplate") or cfg.domain_template)
        cfg.url_scheme = str(ingress.get("urlScheme") or cfg.url_scheme)
        cfg.ingress_class = str(ingress.get("ingressClassName") or cfg.ingress_class)
        cfg.disable_ingress_creation = bool(ingress.get("disableIngressCreation", False))
        storage = _json(data.get("storageInitializer"))
        if storage.get("image"):
            cfg.storage_initializer_image = str(storage["image"])
        resource = _json(data.get("inferenceService")).get("resource") or {}
        if resource:
            cfg.resource_defaults = {
                "requests": {"cpu": str(resource.get("cpuRequest", "1")),
                             "memory": str(resource.get("memoryRequest", "2Gi"))},
                "limits": {"cpu": str(resource.get("cpuLimit", "1")),
                           "memory": str(resource.get("memoryLimit", "2Gi"))}}
        return cfg

    def default_kind(self, settings: ControllerSettings) -> str | None:
        return mode_kind(self.default_mode, settings)

    def host(self, name: str, namespace: str) -> str:
        return (self.domain_template.replace("{{ .Name }}", name).replace("{{ .Namespace }}", namespace)
                .replace("{{ .IngressDomain }}", self.ingress_domain))


def _json(text: str | None) -> Obj:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
