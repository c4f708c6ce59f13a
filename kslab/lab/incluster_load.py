"""`kslab load --in-cluster`: load a deployed model from K pods inside its cluster (no port-forward in the way).

The target is the InferenceService's cluster-internal address (``status.address.url``, inference_service_status.go:
Knative ``http://<isvc>.<ns>.svc.cluster.local``, Standard ``http://<isvc>-predictor.<ns>.svc.cluster.local``)
plus the protocol's predict/infer route; the Job runs in the model's namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kslab.errors import CheckFailed, UsageError
from kslab.session import Session

StatusSink = Callable[[str], None]


def cluster_url(isvc: dict[str, Any], protocol: str) -> str:
    """status.address.url + /v1/models/NAME:predict (or the V2 infer route)."""
    from kslab.inference.payloads import predict_path

    meta = isvc["metadata"]
    address = str(((isvc.get("status") or {}).get("address") or {}).get("url") or "")
    if not address.startswith("http://"):
        raise CheckFailed(f"InferenceService {meta['namespace']}/{meta['name']} has no http:// cluster address "
                          f"(status.address.url is {address or 'empty'})",
                          f"kubectl get isvc {meta['name']} -n {meta['namespace']} -o yaml; "
                          f"'kslab doctor {meta['name']}'")
    return address.rstrip("/") + predict_path(protocol, meta["name"])


def load_in_cluster(session: Session, name: str, *, protocol: str, body: bytes, plan: Any, image: str | None = None,
                    on_status: StatusSink | None = None) -> dict[str, Any]:
    """Run ``plan`` (already split into pods, kslab.load.jobspec.pod_plan) as a Job; the merged result.

    ``image`` None: ``load.image`` from the settings, else kslab's own load image, which kslab builds and loads
    onto a kind/minikube node now (kslab.lab.images); an existing cluster needs ``load.image`` (UsageError).
    """
    from kslab.lab.images import kslab_image_for
    from kslab.load.incluster import InClusterLoad, run_in_cluster
    from kslab.portforward.endpoints import read_ready_isvc, runtime_protocols

    settings, provider = session.settings, session.provider
    if not provider.has_cluster:
        raise UsageError("--in-cluster needs a cluster; the local provider has none",
                         "drop --in-cluster, or use --provider kind/minikube/existing")
    kube = provider.kube()
    isvc = read_ready_isvc(kube, settings.namespace, name)
    protocols = runtime_protocols(isvc)
    if protocol not in protocols:
        raise UsageError(f"InferenceService {settings.namespace}/{name} does not serve protocol {protocol}",
                         f"use --protocol {protocols[0]}")
    url = cluster_url(isvc, protocol)
    chosen = image or settings.load.image or kslab_image_for(session, "load", on_status)
    nodes = provider.node_images()  # kind/minikube: how a user loads an image onto the nodes; None elsewhere
    load = InClusterLoad(namespace=settings.namespace, model=name, url=url, body=body, plan=plan, image=chosen,
                         how_to_load=nodes.how_to_load if nodes is not None else None)
    return run_in_cluster(kube, load, on_status)
