"""`kslab doctor NAME`: walk the layers in order and stop at the first broken one, with evidence and the fix.

API server → stack components (including webhook endpoints) → the InferenceService (conditions,
runtime, pods, logs, route — matched against manifests/diagnosis/signatures.yaml) → an inference request
through the same path `kslab predict` uses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kslab.config.model import Settings
from kslab.doctor.isvc import diagnose_isvc
from kslab.errors import KslabError
from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.conditions import condition_is
from kslab.session import Session
from kslab.stack.components import load_components
from kslab.stack.readiness import is_ready_now
from kslab.stack.versions import load_matrix


@dataclass
class LayerCheck:
    layer: str
    ok: bool
    detail: str
    fix: str | None = None
    evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _api(kube: Kube) -> LayerCheck:
    try:
        version = kube.version().get("git_version", "?")
    except KslabError as exc:
        return LayerCheck("API server", False, exc.message, exc.hint)
    return LayerCheck("API server", True, f"reachable at {kube.host}, Kubernetes {version}")


def _stack(settings: Settings, kube: Kube) -> LayerCheck:
    matrix = load_matrix()
    release = matrix.release(settings.kserve_version)
    for component in load_components(matrix, release, settings.mode):
        failing = [check.describe() for check in component.ready if not is_ready_now(kube, check)]
        if failing:
            return LayerCheck(f"stack: {component.name}", False, "not ready: " + "; ".join(failing),
                              "run 'kslab up' (it waits for each component and names what it waited for)", failing)
    return LayerCheck("stack", True, f"KServe {release.kserve} stack ready ({settings.mode} mode)")


def _isvc(kube: Kube, name: str, namespace: str) -> LayerCheck:
    isvc = kube.find(R.INFERENCE_SERVICE, name, namespace)
    if isvc is None:
        return LayerCheck("InferenceService", False, f"{name} does not exist in namespace {namespace}",
                          f"kslab deploy {name}")
    if condition_is(isvc, "Ready"):
        return LayerCheck("InferenceService", True, f"{name} Ready, {(isvc.get('status') or {}).get('url')}")
    diagnosis = diagnose_isvc(kube, name, namespace)
    evidence = [f"{e.source}: {e.text}" for e in diagnosis.evidence[:8]]
    return LayerCheck(diagnosis.layer if diagnosis.primary else "InferenceService", False, diagnosis.describe(),
                      diagnosis.fix(), evidence)


def _inference(session: Session, name: str) -> LayerCheck:
    from kslab.inference.client import InferenceClient

    try:
        with session.provider.endpoint(name) as endpoint, InferenceClient(
                endpoint, timeout_s=session.settings.timeouts.request) as client:
            answer = client.model_ready()
    except KslabError as exc:
        return LayerCheck("inference request", False, exc.message, exc.hint)
    if not answer.ok:
        return LayerCheck("inference request", False, f"GET /v1/models/{name} answered {answer.status_code}: "
                          f"{answer.error}", "an empty 404 means the Host header matches no route: check "
                          "status.url and the Knative domain (example.com)")
    return LayerCheck("inference request", True, f"model ready via {endpoint.describe()}")


def walk(session: Session, name: str) -> list[LayerCheck]:
    """The layers checked, in order; the last one is the first broken layer (or all pass)."""
    if not session.provider.has_cluster:
        return [_inference(session, name)]
    settings = session.settings
    kube = session.kube().retrying(attempts=2)  # a broken layer is the answer: do not wait long for it
    checks: list[LayerCheck] = []
    for step in (lambda: _api(kube), lambda: _stack(settings, kube),
                 lambda: _isvc(kube, name, settings.namespace), lambda: _inference(session, name)):
        checks.append(step())
        if not checks[-1].ok:
            break
    return checks
