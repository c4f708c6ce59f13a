"""Collect the evidence about one InferenceService, layer by layer, and match it against the signatures.

Walk: the API answer (when the apply failed) -> the ISVC's conditions and modelStatus -> the conditions of
its Knative Revisions (Knative mode: the reason, e.g. ExitCode137, is only there) -> its Events ->
the KServe controller's log lines about it -> its predictor pods (states, then the logs of the containers
in trouble, storage-initializer first) -> the pods' Events -> status.url. Every read is best-effort: a
diagnosis never hides the failure it explains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kslab.doctor.signatures import Evidence, Finding, diagnose
from kslab.errors import KslabError
from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.conditions import conditions, summarize
from kslab.stack.installed import KSERVE_CONTROLLER, KSERVE_NAMESPACE

Obj = dict[str, Any]
T = TypeVar("T")
ISVC_LABEL = "serving.kserve.io/inferenceservice"
LOG_TAIL = 30
_IGNORED_WAITING = {"PodInitializing", "ContainerCreating"}


@dataclass
class Diagnosis:
    name: str
    namespace: str
    evidence: list[Evidence] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    conditions: str = ""

    @property
    def primary(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    @property
    def layer(self) -> str:
        return self.primary.layer if self.primary else "unknown"

    def describe(self) -> str:
        """'stuck at storage / egress: <why> — "<quoted evidence>" (pod/container)'."""
        first = self.primary
        if first is None:
            return f"no known failure signature matched; conditions: {self.conditions or 'none reported'}"
        where = f" ({first.evidence.where})" if first.evidence.where else ""
        return f'stuck at {first.layer}: {first.explanation} — "{first.evidence.text}"{where}'

    def fix(self) -> str:
        if self.primary is None:
            return f"inspect it: kubectl describe inferenceservice {self.name} -n {self.namespace}"
        return self.primary.fix

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "summary": self.describe(), "fix": self.fix(),
                "findings": [f.to_dict() for f in self.findings], "evidence": [e.to_dict() for e in self.evidence],
                "conditions": self.conditions}


def _safe(read: Callable[[], T], default: T) -> T:
    try:
        return read()
    except KslabError:
        return default


def _last_line(text: str) -> str:
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def isvc_evidence(isvc: Obj | None, where: str) -> list[Evidence]:
    if isvc is None:
        return []
    out = []
    for cond in conditions(isvc):
        if str(cond.get("status")) != "True" and cond.get("type") != "Stopped":
            detail = ": ".join(str(cond[k]) for k in ("reason", "message") if cond.get(k))
            out.append(Evidence("condition", f"{cond.get('type')}={cond.get('status')} {detail}".strip(),
                                str(cond.get("reason") or ""), where))
    failure = (((isvc.get("status") or {}).get("modelStatus") or {}).get("lastFailureInfo")) or {}
    if failure.get("reason"):
        out.append(Evidence("model", f"{failure['reason']}: {_last_line(failure.get('message', ''))}",
                            str(failure["reason"]), where))
    url = (isvc.get("status") or {}).get("url")
    if url:
        out.append(Evidence("url", str(url), "", where))
    return out


def revision_evidence(kube: Kube, name: str, namespace: str) -> list[Evidence]:
    """Conditions that are not True of the ISVC's Knative Revisions, newest revision first. Active is left out:
    a revision scaled to zero is Active=False/NoTraffic and healthy."""
    revisions, _ = _safe(lambda: kube.list(R.KNATIVE_REVISION, namespace, label_selector=f"{ISVC_LABEL}={name}"),
                         ([], ""))
    revisions.sort(key=lambda r: str((r.get("metadata") or {}).get("creationTimestamp") or ""), reverse=True)
    out = []
    for revision in revisions:
        rname = str((revision.get("metadata") or {}).get("name"))
        for cond in conditions(revision):
            if str(cond.get("status")) == "True" or cond.get("type") == "Active":
                continue
            detail = ": ".join(str(cond[k]) for k in ("reason", "message") if cond.get(k))
            out.append(Evidence("revision", f"Revision {rname} {cond.get('type')}={cond.get('status')} {detail}"
                                .strip(), str(cond.get("reason") or ""), f"Revision/{rname}"))
    return out


def _container_evidence(pod_name: str, status: Obj, init: bool) -> tuple[list[Evidence], bool]:
    """Evidence for one container status, and whether its log is worth reading."""
    name = str(status.get("name"))
    where = f"pod {pod_name}/{name}"
    prefix = "Init:" if init else ""
    state, last = status.get("state") or {}, (status.get("lastState") or {}).get("terminated") or {}
    out = []
    waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
    if waiting.get("reason") and waiting["reason"] not in _IGNORED_WAITING:
        out.append(Evidence("pod", f"{name} {prefix}{waiting['reason']}: {waiting.get('message', '')}".strip(": "),
                            str(waiting["reason"]), where))
    if terminated and int(terminated.get("exitCode") or 0) != 0:
        code = terminated.get("exitCode")
        out.append(Evidence("pod", f"{name} {prefix}{terminated.get('reason')} (exit code {code})",
                            str(terminated.get("reason") or ""), where))
    if last and last.get("reason") == "OOMKilled":
        out.append(Evidence("pod", f"{name} last terminated: OOMKilled (exit code {last.get('exitCode')})",
                            "OOMKilled", where))
    troubled = bool(out) or int(status.get("restartCount") or 0) > 0
    return out, troubled


def pod_evidence(kube: Kube, pod: Obj) -> list[Evidence]:
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    pod_name, namespace = str(meta.get("name")), str(meta.get("namespace"))
    out: list[Evidence] = []
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            out.append(Evidence("pod", f"{status.get('phase', 'Pending')} {cond.get('reason')}: {cond.get('message')}",
                                str(cond.get("reason") or ""), f"pod {pod_name}"))
    logs: list[Evidence] = []
    for key, init in (("initContainerStatuses", True), ("containerStatuses", False)):
        for cstatus in status.get(key) or []:
            items, troubled = _container_evidence(pod_name, cstatus, init)
            out += items
            if troubled:
                text = _safe(lambda c=cstatus: kube.pod_log(pod_name, namespace, str(c.get("name")), LOG_TAIL), "")
                logs += [Evidence("log", line.strip(), "", f"pod {pod_name}/{cstatus.get('name')}")
                         for line in reversed(text.splitlines()) if line.strip()]
    return out + logs


def event_evidence(kube: Kube, namespace: str, name: str, kind: str) -> list[Evidence]:
    events, _ = _safe(lambda: kube.list(R.EVENT, namespace, field_selector=f"involvedObject.name={name},"
                                                                             f"involvedObject.kind={kind}"), ([], ""))
    events.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""), reverse=True)
    return [Evidence("event", f"{e.get('reason')}: {e.get('message')}", str(e.get("reason") or ""), f"{kind}/{name}")
            for e in events if e.get("type") == "Warning" or kind == "InferenceService"]


def controller_evidence(kube: Kube, name: str, limit: int = 5) -> list[Evidence]:
    pods, _ = _safe(lambda: kube.list(R.POD, KSERVE_NAMESPACE, label_selector=f"control-plane={KSERVE_CONTROLLER}"),
                    ([], ""))
    out: list[Evidence] = []
    for pod in pods:
        pod_name = pod["metadata"]["name"]
        text = _safe(lambda p=pod_name: kube.pod_log(p, KSERVE_NAMESPACE, "manager", 200), "")
        lines = [line.strip() for line in reversed(text.splitlines()) if name in line or "invalid deployment mode"
                 in line]
        out += [Evidence("controller", line, "", f"pod {pod_name}/manager") for line in lines[:limit]]
    return out


def diagnose_isvc(kube: Kube, name: str, namespace: str, api_error: str | None = None) -> Diagnosis:
    """Walk the layers of ``name`` and match what was seen against manifests/diagnosis/signatures.yaml."""
    evidence: list[Evidence] = []
    if api_error:
        evidence.append(Evidence("api", api_error, "", f"InferenceService/{name}"))
    isvc = _safe(lambda: kube.find(R.INFERENCE_SERVICE, name, namespace), None)
    evidence += isvc_evidence(isvc, f"InferenceService/{name}")
    evidence += revision_evidence(kube, name, namespace)
    evidence += event_evidence(kube, namespace, name, "InferenceService")
    evidence += controller_evidence(kube, name)
    pods, _ = _safe(lambda: kube.list(R.POD, namespace, label_selector=f"{ISVC_LABEL}={name}"), ([], ""))
    for pod in pods:
        evidence += pod_evidence(kube, pod)
    for pod in pods:
        evidence += event_evidence(kube, namespace, pod["metadata"]["name"], "Pod")
    findings = diagnose(evidence, {"name": name, "namespace": namespace})
    return Diagnosis(name, namespace, evidence, findings, summarize(isvc) if isvc is not None else "")
