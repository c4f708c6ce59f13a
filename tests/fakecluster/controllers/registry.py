"""Which reconcilers and admission hooks make up the simulated cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..store import Admission
from .autoscaler import AutoscalerReconciler
from .deployments import DeploymentReconciler, ReplicaSetReconciler
from .endpoints import EndpointsReconciler
from .framework import Reconciler
from .hpa import HorizontalPodAutoscalerReconciler
from .job_admission import admit as admit_job
from .jobs import JobReconciler
from .knative_operator import KnativeServingReconciler
from .knative_revisions import RevisionReconciler
from .knative_serving import ConfigurationReconciler, RouteReconciler, ServiceReconciler
from .kserve_isvc import InferenceServiceReconciler
from .kserve_webhook import KServeWebhooks, WebhookEndpointsReconciler
from .oom import OomKiller
from .pods import PodLifecycle

if TYPE_CHECKING:
    from .manager import ControllerManager

RECONCILERS: tuple[type[Reconciler], ...] = (
    PodLifecycle, OomKiller, ReplicaSetReconciler, DeploymentReconciler, EndpointsReconciler,
    HorizontalPodAutoscalerReconciler,
    KnativeServingReconciler, ServiceReconciler, ConfigurationReconciler, RouteReconciler, RevisionReconciler,
    AutoscalerReconciler, InferenceServiceReconciler, WebhookEndpointsReconciler, JobReconciler,
)


def build_reconcilers(mgr: ControllerManager) -> list[Reconciler]:
    return [cls(mgr) for cls in RECONCILERS]


def build_admission(mgr: ControllerManager) -> list[Admission]:
    mgr.webhooks = KServeWebhooks(mgr)
    return [*mgr.webhooks.hooks(), admit_job]
