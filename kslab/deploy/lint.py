"""Check a rendered InferenceService against the cluster before applying it.

Each check says what KServe would do with the manifest and why: the runtime exists and serves the model
format and protocol (kserve/kserve@v0.20.0:pkg/apis/serving/v1beta1/predictor_model.go), the deployment-mode
name is one the installed KServe knows and Knative is there for Knative mode (config/configmap/
inferenceservice.yaml), the namespace is usable, an existing InferenceService is kslab's and keeps its mode
(inference_service_validation.go), and the predictor pods fit the nodes' free allocatable CPU/memory.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from kslab.errors import EnvironmentMissing, UsageError
from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.ownership import managed_by_kslab
from kslab.kube.quantity import cpu_millis, format_cpu, format_memory, memory_bytes
from kslab.models.stack import StackMatrix
from kslab.stack.installed import installed_kserve_version, knative_installed, mode_names_known

Obj = dict[str, Any]
MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
QUEUE_PROXY_CPU_MILLIS = 25  # queue-proxy's CPU request (knative/serving config-deployment)
RUNTIME_DEFAULT = {"cpu": "1", "memory": "2Gi"}  # a predictor without resources (kserve/kserve@v0.20.0:config/runtimes)


@dataclass
class LintFinding:
    check: str
    ok: bool
    detail: str
    fix: str | None = None
    severity: str = "ok"  # ok | warn | error (bad input: exit 2) | missing (the cluster lacks it: exit 3)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ok(check: str, detail: str) -> LintFinding:
    return LintFinding(check, True, detail)


def _error(check: str, detail: str, fix: str, severity: str = "error") -> LintFinding:
    return LintFinding(check, False, detail, fix, severity)


def _model(isvc: Obj) -> Obj:
    return ((isvc.get("spec") or {}).get("predictor") or {}).get("model") or {}


# -- runtime -------------------------------------------------------------------------------------
def _runtimes(kube: Kube, namespace: str) -> list[tuple[Obj, str]]:
    local, _ = kube.list(R.SERVING_RUNTIME, namespace)
    cluster, _ = kube.list(R.CLUSTER_SERVING_RUNTIME)
    return [(o, "ServingRuntime") for o in local] + [(o, "ClusterServingRuntime") for o in cluster]


def _formats(spec: Obj, auto_only: bool) -> dict[str, int]:
    """format name -> priority (0 when unset) of the formats a runtime serves (auto-selects)."""
    return {str(f.get("name")): int(f.get("priority") or 0) for f in spec.get("supportedModelFormats") or []
            if not auto_only or f.get("autoSelect")}


def check_runtime(kube: Kube, namespace: str, isvc: Obj) -> LintFinding:
    model = _model(isvc)
    fmt = str((model.get("modelFormat") or {}).get("name", ""))
    protocol = str(model.get("protocolVersion") or "v1")
    wanted = model.get("runtime")
    runtimes = _runtimes(kube, namespace)
    serving = sorted({o["metadata"]["name"] for o, _ in runtimes if fmt in _formats(o.get("spec") or {}, False)})
    choices = f"runtimes that serve {fmt}: {', '.join(serving) or 'none installed'}"
    if wanted:
        found = next(((o, kind) for o, kind in runtimes if o["metadata"]["name"] == wanted), None)
        if found is None:
            return _error("runtime", f"runtime {wanted} does not exist (no ServingRuntime in {namespace}, no "
                          "ClusterServingRuntime): KServe would wait forever with RuntimeNotRecognized",
                          f"choose an installed runtime with --runtime ({choices}), or install KServe's runtimes "
                          "with 'kslab up'")
        spec, kind = found[0].get("spec") or {}, found[1]
        if spec.get("disabled"):
            return _error("runtime", f"{kind} {wanted} is disabled", f"choose another runtime ({choices})")
        if fmt not in _formats(spec, False):
            return _error("runtime", f"{kind} {wanted} does not serve model format {fmt} (it serves "
                          f"{', '.join(_formats(spec, False)) or 'nothing'}): KServe would report "
                          "NoSupportingRuntime", f"use --runtime with one of the {choices}")
        protocols = [str(p) for p in spec.get("protocolVersions") or []]
        if protocols and protocol not in protocols:
            return _error("runtime", f"{kind} {wanted} does not support protocol {protocol} (only "
                          f"{', '.join(protocols)}): the deploy would fail with NoSupportingRuntime "
                          "(\"Specified runtime does not support specified protocol version\")",
                          f"use --protocol {protocols[0]}, or a runtime that serves {protocol} such as "
                          "kserve-sklearnserver (V1 and V2)")
        return _ok("runtime", f"{kind} {wanted} serves {fmt} over {protocol}")
    candidates = [(o, kind) for o, kind in runtimes if not (o.get("spec") or {}).get("disabled")
                  and fmt in _formats(o.get("spec") or {}, True)
                  and protocol in [str(p) for p in (o.get("spec") or {}).get("protocolVersions") or []]]
    if not candidates:
        return _error("runtime", f"no installed runtime auto-selects {fmt} over {protocol}: KServe would report "
                      "NoSupportingRuntime", f"install KServe's runtimes ('kslab up'), or name one with --runtime "
                      f"({choices})")
    candidates.sort(key=lambda c: (c[1] != "ServingRuntime", -_formats(c[0]["spec"], True)[fmt]))
    chosen, kind = candidates[0]
    return _ok("runtime", f"KServe will choose {kind} {chosen['metadata']['name']} (highest priority that "
               f"auto-selects {fmt} over {protocol})")


# -- mode, namespace, existing object ------------------------------------------------------------
def check_mode(kube: Kube, matrix: StackMatrix, isvc: Obj, mode: str) -> list[LintFinding]:
    name = ((isvc.get("metadata") or {}).get("annotations") or {}).get(MODE_ANNOTATION, "")
    installed = installed_kserve_version(kube)
    out = []
    if installed is None:
        out.append(_error("kserve", "KServe is not installed (no Deployment kserve/kserve-controller-manager)",
                          "install the stack: kslab up", "missing"))
    elif not installed:
        out.append(LintFinding("deployment mode", True, "could not read the KServe version from the controller "
                               f"image; not checking the mode name {name}", None, "warn"))
    else:
        known = mode_names_known(matrix, installed)
        if name not in known:
            minor = ".".join(installed.lstrip("v").split(".")[:2])
            out.append(_error("deployment mode", f"deployment mode {name!r} is not known to the installed KServe "
                              f"{installed} (it accepts {', '.join(sorted(known))})",
                              f"set kserve_version: \"{minor}\" in kslab.yaml (or KSLAB_KSERVE_VERSION={minor}) to "
                              "match the cluster"))
        else:
            out.append(_ok("deployment mode", f"{name} (KServe {installed} installed)"))
    if mode == "knative":
        if knative_installed(kube):
            out.append(_ok("knative", "Knative Serving is installed"))
        else:
            out.append(_error("knative", "Knative Serving is not installed: KServe would reject a Knative-mode "
                              "InferenceService (ServerlessModeRejected) and create nothing",
                              "deploy with --mode standard, or install Knative: kslab up --mode knative"))
    return out


def _mode_of(matrix: StackMatrix, name: str) -> str | None:
    for release in matrix.releases.values():
        for mode, mode_name in release.deployment_modes.items():
            if mode_name == name:
                return mode
    return None


def check_target(kube: Kube, matrix: StackMatrix, isvc: Obj, mode: str) -> list[LintFinding]:
    meta = isvc["metadata"]
    out = []
    namespace = kube.find(R.NAMESPACE, meta["namespace"])
    if namespace is not None and "control-plane" in ((namespace.get("metadata") or {}).get("labels") or {}):
        out.append(_error("namespace", f"namespace {meta['namespace']} is labelled control-plane: KServe's pod "
                          "webhook skips it and the model would never be mounted",
                          "deploy into an ordinary namespace, e.g. kslab -n kserve-test deploy ..."))
    existing = kube.find(R.INFERENCE_SERVICE, meta["name"], meta["namespace"])
    if existing is None:
        return out
    if not managed_by_kslab(existing):
        out.append(_error("existing", f"InferenceService {meta['namespace']}/{meta['name']} exists and kslab did "
                          "not deploy it", f"delete it (kubectl delete isvc {meta['name']} -n {meta['namespace']}) "
                          "or deploy into another namespace with -n"))
    recorded = str(((existing.get("status") or {}).get("deploymentMode")) or "")
    if recorded and _mode_of(matrix, recorded) not in (None, mode):
        out.append(_error("existing", f"InferenceService {meta['name']} runs in {recorded} mode; KServe rejects a "
                          "deployment-mode change", f"remove it first: kslab undeploy {meta['name']}"))
    return out


# -- resources -------------------------------------------------------------------------------------
def _requests(container: Obj) -> tuple[int, int]:
    res = container.get("resources") or {}
    requests, limits = res.get("requests") or {}, res.get("limits") or {}
    return (cpu_millis(requests.get("cpu", limits.get("cpu"))), memory_bytes(requests.get("memory",
                                                                                          limits.get("memory"))))


def pod_requests(pod: Obj) -> tuple[int, int]:
    """What the scheduler reserves for a pod: the larger of its containers' sum and its biggest init container."""
    spec = pod.get("spec") or {}
    apps = [_requests(c) for c in spec.get("containers") or []]
    inits = [_requests(c) for c in spec.get("initContainers") or []]
    return (max(sum(c for c, _ in apps), max((c for c, _ in inits), default=0)),
            max(sum(m for _, m in apps), max((m for _, m in inits), default=0)))


def predictor_requests(isvc: Obj, mode: str) -> tuple[int, int]:
    model = _model(isvc)
    resources = model.get("resources") or {}
    cpu, memory = _requests(model) if resources.get("requests") or resources.get("limits") else (
        cpu_millis(RUNTIME_DEFAULT["cpu"]), memory_bytes(RUNTIME_DEFAULT["memory"]))
    return cpu + (QUEUE_PROXY_CPU_MILLIS if mode == "knative" else 0), memory


def _free_per_node(kube: Kube, skip_isvc: str) -> dict[str, tuple[int, int]]:
    nodes, _ = kube.list(R.NODE)
    pods, _ = kube.list(R.POD)
    free = {}
    for node in nodes:
        if (node.get("spec") or {}).get("unschedulable"):
            continue
        alloc = (node.get("status") or {}).get("allocatable") or {}
        free[node["metadata"]["name"]] = (cpu_millis(alloc.get("cpu")), memory_bytes(alloc.get("memory")))
    for pod in pods:
        meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
        node = spec.get("nodeName")
        labels = meta.get("labels") or {}
        if node not in free or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") \
                or labels.get("serving.kserve.io/inferenceservice") == skip_isvc:
            continue
        cpu, memory = pod_requests(pod)
        free[node] = (free[node][0] - cpu, free[node][1] - memory)
    return free


def check_resources(kube: Kube, isvc: Obj, mode: str) -> LintFinding:
    cpu, memory = predictor_requests(isvc, mode)
    replicas = max(int(((isvc.get("spec") or {}).get("predictor") or {}).get("minReplicas") or 1), 1)
    free = _free_per_node(kube, isvc["metadata"]["name"])
    fits = sum(min(c // cpu if cpu else replicas, m // memory if memory else replicas)
               for c, m in free.values() if c >= 0 and m >= 0)
    need = f"{format_cpu(cpu)} CPU / {format_memory(memory)} per predictor pod x {replicas}"
    if fits >= replicas:
        return _ok("resources", f"{need} fits the free allocatable of {len(free)} node(s)")
    best_cpu = max((c for c, _ in free.values()), default=0)
    best_mem = max((m for _, m in free.values()), default=0)
    short = "cpu" if cpu > best_cpu else "memory"
    return _error("resources", f"{need} does not fit: the most free on any node is {format_cpu(max(best_cpu, 0))} "
                  f"CPU / {format_memory(max(best_mem, 0))}, so the pod would stay Pending (Insufficient {short})",
                  "free capacity (kslab undeploy other InferenceServices), give the Docker engine / kind node more "
                  "CPU and memory, or lower the requests in manifests/isvc/inferenceservice.yaml")


# -- all -------------------------------------------------------------------------------------------
def lint_isvc(kube: Kube, matrix: StackMatrix, isvc: Obj, mode: str) -> list[LintFinding]:
    findings = check_mode(kube, matrix, isvc, mode)
    if any(f.severity == "missing" for f in findings):
        return findings  # without KServe its runtimes and CRDs are not there to check
    namespace = isvc["metadata"]["namespace"]
    return [*findings, *check_target(kube, matrix, isvc, mode), check_runtime(kube, namespace, isvc),
            check_resources(kube, isvc, mode)]


def require_clean(findings: list[LintFinding]) -> None:
    """Raise for the failed checks: EnvironmentMissing (exit 3) when the cluster lacks the stack (the other
    failures follow from that), else UsageError (exit 2); the message lists every failure."""
    failed = [f for f in findings if not f.ok and f.severity in ("error", "missing")]
    if not failed:
        return
    message = "lint: " + "; ".join(f"{f.check}: {f.detail}" for f in failed)
    missing = [f for f in failed if f.severity == "missing"]
    if missing:
        raise EnvironmentMissing(message, missing[0].fix)
    raise UsageError(message, f"{failed[0].fix} (or --skip-lint to apply anyway)")
