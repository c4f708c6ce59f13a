"""What an in-cluster load pod runs (WorkerSpec, carried as JSON in one env variable) and the Job that runs it.

The Job comes from manifests/load/job.yaml with its placeholders filled by the stack's template filler
(``kslab.stack.components.fill``), then gets kslab's managed-by label (kslab.kube.ownership).
"""

from __future__ import annotations

import base64
import json
import math
import secrets
from dataclasses import dataclass
from typing import Any

from kslab import __version__
from kslab.errors import UsageError
from kslab.load.plan import LoadPlan, Step

JOB_TEMPLATE = "load/job.yaml"
SPEC_ENV = "KSLAB_LOAD_SPEC"
INDEX_ENV = "JOB_COMPLETION_INDEX"
CONTAINER = "load"
DEFAULT_IMAGE = f"kslab/load:{__version__}"  # manifests/images.yaml: kslab builds it and loads it onto the node
TTL_AFTER_FINISHED_S = 600
STARTUP_ALLOWANCE_S = 120  # scheduling, image pull and interpreter start of the pods
MAX_PODS = 100


@dataclass(frozen=True)
class WorkerSpec:
    """The whole plan (split by each pod with ``for_worker(index)``), the URL and the exact request body."""

    url: str
    body: bytes
    plan: LoadPlan

    def to_json(self) -> str:
        return json.dumps({"url": self.url, "body": base64.b64encode(self.body).decode("ascii"),
                           "plan": self.plan.to_dict()}, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        data = json.loads(text)
        return cls(str(data["url"]), base64.b64decode(data["body"]), plan_from_dict(data["plan"]))


def plan_from_dict(data: dict[str, Any]) -> LoadPlan:
    """The inverse of ``LoadPlan.to_dict``."""
    steps = tuple(Step(float(s["level"]), None if s["duration_s"] is None else float(s["duration_s"]),
                       None if s.get("requests") is None else int(s["requests"])) for s in data["steps"])
    return LoadPlan(str(data["mode"]), steps, int(data["connections"]), float(data.get("warmup_s") or 0.0),
                    float(data.get("timeout_s") or 10.0), int(data.get("workers") or 1), dict(data.get("extra") or {}))


def pod_plan(plan: LoadPlan, pods: int) -> LoadPlan:
    """``plan`` split across ``pods`` pods (one worker process each); UsageError when there is too little to share."""
    if not 1 <= pods <= MAX_PODS:
        raise UsageError(f"--pods must be between 1 and {MAX_PODS}")
    if plan.workers != 1:
        raise UsageError("--workers and --in-cluster exclude each other", "scale out with --pods instead")
    if plan.connections < pods:
        raise UsageError(f"--pods {pods} is more than the {plan.connections} connections to share",
                         "lower --pods or raise --concurrency")
    return LoadPlan(plan.mode, plan.steps, plan.connections, plan.warmup_s, plan.timeout_s, pods, plan.extra)


def expected_seconds(plan: LoadPlan) -> float | None:
    """How long the plan runs when every step is timed (None when a step runs until a request count)."""
    if any(step.duration_s is None for step in plan.steps):
        return None
    return sum(step.duration_s or 0.0 for step in plan.steps)


def job_deadline(plan: LoadPlan, allowance_s: float) -> int:
    """activeDeadlineSeconds: the plan's length (or the allowance again for a request count) plus the allowance."""
    return math.ceil((expected_seconds(plan) or allowance_s) + allowance_s + plan.timeout_s)


def job_name(model: str) -> str:
    """kslab-load-<model>-<5 random characters>, short enough for pod names and label values."""
    return f"kslab-load-{model[:30].rstrip('-')}-{secrets.token_hex(3)[:5]}"


def render_job(*, name: str, namespace: str, model: str, pods: int, image: str, spec: WorkerSpec,
               deadline_s: int) -> dict[str, Any]:
    """The batch/v1 Job of manifests/load/job.yaml, filled and labelled as kslab's."""
    import yaml

    from kslab.kube.ownership import managed_labels
    from kslab.paths import manifests_dir
    from kslab.stack.components import fill

    values = {"name": name, "namespace": namespace, "model": model, "pods": str(pods), "image": image,
              "spec": json.dumps(spec.to_json()), "deadline": str(deadline_s), "ttl": str(TTL_AFTER_FINISHED_S)}
    text = fill((manifests_dir() / JOB_TEMPLATE).read_text(encoding="utf-8"), values, JOB_TEMPLATE)
    job = yaml.safe_load(text)
    job["metadata"]["labels"] = {**job["metadata"].get("labels", {}), **managed_labels()}
    template_meta = job["spec"]["template"]["metadata"]
    template_meta["labels"] = {**template_meta.get("labels", {}), **managed_labels()}
    return job
