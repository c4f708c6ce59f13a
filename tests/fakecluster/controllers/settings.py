"""Knobs of the simulated controllers: versions, delays, and failure modes a test can switch on.

Every delay is in "fake seconds" and is multiplied by ``time_scale`` when scheduled, so a test can
slow the whole cluster down (``time_scale=5``) or speed it up without touching individual delays.
Settings are read on every use, so changing them while the controllers run takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..crd_schemas import parse_version


@dataclass
class ControllerSettings:
    """What the fake cluster does and how fast. ``None`` on a tri-state knob means "decide from the cluster"."""

    kserve_version: str = "0.20.0"
    knative_serving_version: str = "1.21.1"  # status.version of a KnativeServing whose spec.version is empty
    time_scale: float = 1.0
    seed: int = 0  # random pod/ReplicaSet suffixes come from random.Random(seed)

    # Delays (fake seconds).
    bind_delay: float = 0.005  # scheduler latency before a pod is bound
    sandbox_delay: float = 0.01  # bind -> first container (init or main) starts
    init_container_seconds: float = 0.03  # how long storage-initializer runs
    container_start_delay: float = 0.03  # containers started -> Ready
    crash_backoff: float = 0.05  # first CrashLoopBackOff back-off; doubles per restart
    max_crash_restarts: int = 4  # after this many restarts the container stays in CrashLoopBackOff
    scale_to_zero_grace: float = 0.3  # Knative scale-to-zero-grace-period stand-in
    requeue_delay: float = 0.05  # retry after a failed reconcile
    progress_deadline: float | None = None  # override Deployment progressDeadlineSeconds (None: use the object's)

    # Failure modes and component presence.
    webhook_ready: bool | None = None  # None: the KServe webhook answers once kserve-controller-manager is Available
    webhook_warmup: float = 0.0  # after the controller becomes Available the webhook still refuses this long
    knative_installed: bool | None = None  # None: detect (Deployment knative-serving/controller, KnativeServing, CRD)
    ingress_ready: bool | None = None  # None: ready unless istio-ingressgateway exists and is not Available
    net_istio_running: bool | None = None  # None: running unless knative-serving/net-istio-controller is not Available
    oom_memory_needed: str | None = None  # a kserve-container with limits.memory below this is OOMKilled (exit 137)
    metrics_server: bool = False  # True: HPAs read their metric (ScalingActive=True); False: FailedGetResourceMetric
    failing_storage_uris: set[str] = field(default_factory=set)  # storage-initializer exits 1 for these URIs
    # The public object store the storage-initializer downloads gs:// URIs from (e.g. tests/fake_gcs.FakeGcs.has):
    # a gs:// model it does not hold fails to fetch, as on a real node. None: every gs:// URI exists.
    public_storage: Any = None
    leave_ksvc_on_delete: bool = False  # deleting an ISVC orphans its Knative Services (kserve/kserve#4194-like)

    # Image pulls (image_pulls.py): "published" = an image neither on the node nor published upstream fails
    # to pull (ErrImagePull, then ImagePullBackOff); "any" = every image pulls.
    image_pulls: str = "published"
    public_images: set[str] = field(default_factory=lambda: {"busybox", "nginx", "python", "alpine"})
    image_pull_backoff: float = 0.05  # ErrImagePull -> ImagePullBackOff, and the retry after it; doubles
    image_pull_backoff_max: float = 1.0

    def delay(self, seconds: float) -> float:
        return max(0.0, seconds * self.time_scale)

    @property
    def kserve(self) -> tuple[int, int, int]:
        return parse_version(self.kserve_version)

    def kserve_at_least(self, version: str) -> bool:
        return self.kserve >= parse_version(version)

    @property
    def knative_mode_name(self) -> str:
        """The name KServe uses for the Knative mode: Serverless (<=0.15) or Knative (0.16+)."""
        return "Knative" if self.kserve_at_least("0.16") else "Serverless"

    @property
    def standard_mode_name(self) -> str:
        return "Standard" if self.kserve_at_least("0.16") else "RawDeployment"

    def image_tag(self) -> str:
        major, minor, patch = self.kserve
        return f"v{major}.{minor}.{patch}"
