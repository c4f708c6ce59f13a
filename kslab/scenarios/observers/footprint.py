"""``footprint``: what each side of a mode comparison costs the cluster right now.

Per side: the Kubernetes objects that belong to its InferenceService, by kind and count (everything whose
ownerReferences lead back to it, through Knative Service -> Configuration -> Revision -> Deployment ->
ReplicaSet -> Pod, or Deployment/Service/HPA/Ingress in raw mode); its live predictor pods, their containers
and each container's CPU/memory requests (a Knative pod carries queue-proxy beside kserve-container:
knative/serving@knative-v1.21.1:pkg/deployment/config.go QueueSidecarCPURequestDefault 25m), the requests
of one pod and of all of them.

Options: serverless, raw, label (a name for this snapshot, e.g. deployed / idle), wait_zero (a side whose
pods must first reach zero: the idle window) with timeout (wait_zero's limit, 120s). Result: label,
sides{side: {isvc, objects{kind: n}, object_total, pods, ready_pods, containers, requests_per_pod{cpu_m,
memory_mi}, container_requests{name: {cpu_m, memory_mi}}, requests_total{cpu_m, memory_mi}}}, waited_s,
reached_zero (false without waiting, with ``not_ready``, when that side's InferenceService is not Ready: having no
pods because it never served is not scaling to zero).
"""

from __future__ import annotations

import time
from typing import Any

from kslab.errors import KslabError, UsageError
from kslab.kube import resources as R
from kslab.kube.quantity import cpu_millis, memory_bytes
from kslab.kube.resources import ResourceRef
from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.observers.common import seconds
from kslab.scenarios.observers.modes import SIDES, is_ready, isvc_outcome, live_pods, side_names, wait_pods

Obj = dict[str, Any]
MI = 1024 * 1024
REPLICA_SET = ResourceRef("apps/v1", "ReplicaSet", "replicasets")
# Where a side's children can be: KServe's (both modes), Knative's (serverless), Kubernetes' (raw and below).
CHILD_KINDS = (R.KNATIVE_SERVICE, R.KNATIVE_CONFIGURATION, R.KNATIVE_ROUTE, R.KNATIVE_REVISION, R.POD_AUTOSCALER,
               ResourceRef("networking.internal.knative.dev/v1alpha1", "ServerlessService", "serverlessservices"),
               ResourceRef("networking.internal.knative.dev/v1alpha1", "Ingress", "ingresses"),
               ResourceRef("networking.istio.io/v1beta1", "VirtualService", "virtualservices"),
               R.DEPLOYMENT, REPLICA_SET, R.POD, R.SERVICE, R.HPA, R.INGRESS)


def _listed(ctx: ScenarioContext) -> list[tuple[str, Obj]]:
    """(kind, object) of every kind above in the namespace; a kind the cluster does not serve has none."""
    out = []
    for ref in CHILD_KINDS:
        try:
            items, _ = ctx.kube().list(ref, ctx.namespace)
        except KslabError:  # the API group is not installed (raw-only cluster): nothing of that kind
            continue
        out += [(_kind_label(ref), item) for item in items]
    return out


def _kind_label(ref: ResourceRef) -> str:
    """The kind, with its API group where Kubernetes has a kind of the same name (Knative's Service, Ingress)."""
    if ref.kind in ("Service", "Ingress") and ref.group not in ("", "networking.k8s.io"):
        return f"{ref.kind} ({ref.group})"
    return ref.kind


def owned_objects(ctx: ScenarioContext, isvc_uid: str) -> dict[str, int]:
    """Kind -> how many objects own-chain back to the InferenceService with ``isvc_uid`` (live ones only)."""
    listed = [(kind, obj) for kind, obj in _listed(ctx) if not (obj.get("metadata") or {}).get("deletionTimestamp")]
    owned, grew = {isvc_uid}, True
    counted: dict[str, str] = {}
    while grew:
        grew = False
        for kind, obj in listed:
            meta = obj.get("metadata") or {}
            uid = str(meta.get("uid"))
            if uid in owned:
                continue
            if any(str(ref.get("uid")) in owned for ref in meta.get("ownerReferences") or []):
                owned.add(uid)
                counted[uid] = kind
                grew = True
    by_kind: dict[str, int] = {}
    for kind in counted.values():
        by_kind[kind] = by_kind.get(kind, 0) + 1
    return dict(sorted(by_kind.items()))


def _requests(container: Obj) -> dict[str, float]:
    requests = (container.get("resources") or {}).get("requests") or {}
    return {"cpu_m": cpu_millis(requests.get("cpu")), "memory_mi": round(memory_bytes(requests.get("memory")) / MI, 1)}


def side_footprint(ctx: ScenarioContext, name: str) -> dict[str, Any]:
    isvc = ctx.kube().find(R.INFERENCE_SERVICE, name, ctx.namespace)
    pods = live_pods(ctx, name)
    out: dict[str, Any] = {"isvc": name, "exists": isvc is not None, "pods": len(pods),
                           "ready_pods": sum(1 for p in pods if is_ready(p))}
    out["objects"] = owned_objects(ctx, str(isvc["metadata"]["uid"])) if isvc is not None else {}
    out["object_total"] = sum(out["objects"].values())
    template = _pod_template(ctx, name, pods)
    containers = (template.get("spec") or {}).get("containers") or []
    per_container = {str(c.get("name")): _requests(c) for c in containers}
    per_pod = {"cpu_m": sum(r["cpu_m"] for r in per_container.values()),
               "memory_mi": round(sum(r["memory_mi"] for r in per_container.values()), 1)}
    out.update(containers=list(per_container), container_requests=per_container, requests_per_pod=per_pod,
               requests_total={"cpu_m": per_pod["cpu_m"] * len(pods),
                                "memory_mi": round(per_pod["memory_mi"] * len(pods), 1)})
    return out


def _pod_template(ctx: ScenarioContext, name: str, pods: list[Obj]) -> Obj:
    """A live pod, else the predictor Deployment's pod template (what one replica would be at zero pods)."""
    if pods:
        return pods[0]
    items, _ = ctx.kube().list(R.DEPLOYMENT, ctx.namespace,
                               label_selector=f"serving.kserve.io/inferenceservice={name},component=predictor")
    newest = sorted(items, key=lambda d: str((d.get("metadata") or {}).get("creationTimestamp") or ""))
    return ((newest[-1].get("spec") or {}).get("template") or {}) if newest else {}


def observe_footprint(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    names = side_names(ctx, options)
    out: dict[str, Any] = {"label": str(options.get("label") or "now")}
    zero = options.get("wait_zero")
    if zero is not None:
        if zero not in SIDES:
            raise UsageError(f"with.wait_zero must be one of {', '.join(SIDES)}, got {zero!r}")
        timeout = seconds(options, "timeout", 120.0)
        started = time.monotonic()
        if isvc_outcome(ctx, names[zero])[0] != "ready":  # no pods because it never served is not scale to zero
            out["reached_zero"], out["not_ready"] = False, f"InferenceService {names[zero]} is not Ready"
        else:
            ctx.progress("footprint", "wait", f"{names[zero]} at zero pods (up to {timeout:g}s)")
            out["reached_zero"] = wait_pods(ctx, names[zero], lambda pods: not pods, timeout, "gone (zero pods)")
        out["waited_s"] = round(time.monotonic() - started, 3)
        ctx.mark(f"footprint {out['label']}: {zero} " + ("at zero" if out["reached_zero"] else "not at zero"))
    out["t_s"] = ctx.elapsed()
    out["sides"] = {side: side_footprint(ctx, name) for side, name in names.items()}
    return out
