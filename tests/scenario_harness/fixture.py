"""The ``scenario_lab`` fixture: a fake cluster with the lab installed, real runtimes, the router, knobs.

Import the fixture functions into a test module to register them: ``from tests.scenario_harness.fixture
import lab_fixture, scenario_lab_fixture, scenario_runtimes_fixture  # noqa: F401``. See README.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from kslab.config.model import Settings
from kslab.models.catalog import catalog_model
from tests.deploy_support import NS, SAMPLE_URI, Lab, kslab, lab_fixture  # noqa: F401  (fixture re-export)
from tests.fakecluster.controllers.lab import sklearn_iris, wait_for
from tests.fakecluster.resources import ISVCS
from tests.fakecluster.tools.fixture import FakeTools
from tests.portforward_support import seed_gateway

from .binder import PodBinder
from .router import Router
from .runtimes import RuntimePool

MODEL = "sklearn-iris"
# storageUri -> local build: the catalog's hosted versions (v2 is the canary sample's model-2, facts §6.3)
# plus the website's bucket spelling of model-2.
_CATALOG = catalog_model(MODEL)
URI_VERSIONS = {SAMPLE_URI: "v1", _CATALOG.storage_uri: "v1", **{u: v for v, u in _CATALOG.versions.items()},
                "gs://kserve-examples/models/sklearn/1.0/model-2": "v2"}
MODEL2_URIS = tuple(u for u, v in URI_VERSIONS.items() if v == "v2")


_POOL: list[RuntimePool] = []  # one pool per test session, whichever module asks first


@pytest.fixture(scope="session", name="scenario_runtimes")
def scenario_runtimes_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimePool]:
    """Real KServe model servers for sklearn-iris v1 (two) and v2 (one), started once per test session.

    Each test module that imports this fixture gets its own session-scoped instance (pytest keys fixtures
    by definition), so the pool itself is shared through ``_POOL`` and stopped at the end of the session.
    """
    if not _POOL:
        from kslab.modelbuild.builder import build_model

        root = tmp_path_factory.mktemp("scenario-runtimes")
        dirs = {version: build_model(MODEL, version, root / "models").model_dir for version in ("v1", "v2")}
        pool = RuntimePool(dirs, root / "run")
        _POOL.append(pool)
        try:
            pool.warm(MODEL, "v1", 2)
            pool.warm(MODEL, "v2", 1)
        except BaseException:
            pool.stop()
            _POOL.clear()
            raise
    try:
        yield _POOL[0]
    finally:
        if _POOL:
            _POOL.pop().stop()


@dataclass
class ScenarioLab:
    """What a scenario test drives: the seeded Lab, the router and binder, and the failure knobs."""

    lab: Lab
    tools: FakeTools
    router: Router
    binder: PodBinder
    pool: RuntimePool
    gateway_pod: str

    @property
    def cluster(self) -> Any:
        return self.lab.cluster

    @property
    def store(self) -> Any:
        return self.lab.store

    @property
    def knobs(self) -> Any:
        """The simulated controllers' settings (failing_storage_uris, leave_ksvc_on_delete, ...)."""
        return self.lab.knobs

    # -- failure knobs ----------------------------------------------------------------------------
    @property
    def split_skew_points(self) -> float:
        return self.router.split_skew_points

    @split_skew_points.setter
    def split_skew_points(self, points: float) -> None:
        self.router.split_skew_points = float(points)

    @property
    def freeze_autoscaler(self) -> bool:
        return self.router.freeze_autoscaler

    @freeze_autoscaler.setter
    def freeze_autoscaler(self, frozen: bool) -> None:
        self.router.freeze_autoscaler = bool(frozen)

    def slow_revision(self, revision: str, seconds: float) -> None:
        """Every request the router sends to ``revision`` (split or tag host) waits ``seconds`` more."""
        self.router.slow_revisions[revision] = float(seconds)

    def fail_revision(self, revision: str, share: float) -> None:
        """``share`` (0..1) of the requests the router sends to ``revision`` answer 500."""
        self.router.error_revisions[revision] = float(share)

    def fail_model_uri(self, uri: str = MODEL2_URIS[0]) -> None:
        """Revisions using ``uri`` never become ready (storage-initializer exits 1, CrashLoopBackOff)."""
        self.knobs.failing_storage_uris.add(uri)
        self.cluster.controllers.resync()

    # -- helpers ----------------------------------------------------------------------------------
    def settings(self, **overrides: Any) -> Settings:
        """kslab Settings pointing at this fake cluster (provider existing, namespace kserve-test)."""
        return Settings(provider="existing", kubeconfig=str(self.cluster.kubeconfig_path), namespace=NS,
                        **overrides)

    def kslab(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
        return kslab(capsys, *argv)

    def deploy(self, name: str = MODEL, ready_timeout: float = 15.0, **predictor: Any) -> dict[str, Any]:
        """Create an InferenceService straight in the store and wait until it is Ready and has a bound pod."""
        self.store.create(ISVCS, NS, sklearn_iris(name=name, **predictor))
        return self.wait_ready(name, ready_timeout)

    def canary(self, percent: int, storage_uri: str = MODEL2_URIS[0], name: str = MODEL,
               timeout: float = 15.0) -> dict[str, Any]:
        """Roll a new revision serving ``storage_uri`` out to ``percent`` %; wait for the split and bound pods."""
        def change(obj: dict[str, Any]) -> None:
            obj["spec"]["predictor"]["canaryTrafficPercent"] = percent
            obj["spec"]["predictor"]["model"]["storageUri"] = storage_uri
        self.store.mutate(ISVCS, NS, name, change, manager="kubectl-patch")

        def check() -> dict[str, Any] | None:
            isvc = self.store.find(ISVCS, NS, name) or {}
            traffic = (((isvc.get("status") or {}).get("components") or {}).get("predictor") or {}).get("traffic")
            revisions = {t.get("revisionName") for t in traffic or []}
            bound = {pod for ns, pod in self.binder.bound if ns == NS}
            ok = len(revisions) == 2 and all(any(pod.startswith(f"{r}-deployment-") for pod in bound)
                                              for r in revisions)
            return isvc if ok else None
        return wait_for(check, timeout, f"{name}: a {percent} % canary with both revisions bound to runtimes")

    def wait_ready(self, name: str = MODEL, timeout: float = 15.0) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            isvc = self.store.find(ISVCS, NS, name) or {}
            ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                        for c in (isvc.get("status") or {}).get("conditions") or [])
            bound = any(ns == NS for ns, _ in self.binder.bound)
            return isvc if ready and bound else None
        return wait_for(check, timeout, f"InferenceService {name} Ready with a pod bound to a runtime")


@contextmanager
def serving(cluster: Any, pool: RuntimePool) -> Iterator[tuple[Router, PodBinder]]:
    """The router (gateway + activator) and the pod binder (kubelet side, gateway pods included) for
    ``cluster``; stopped, and the pool's runtimes released, on the way out."""
    router = Router(cluster).start()
    binder = PodBinder(cluster, pool, router.url, URI_VERSIONS).start()
    try:
        yield router, binder
    finally:
        binder.stop()
        router.stop()
        pool.release_all()
        pool.stop_explainers()
    assert not binder.errors, "binding pods to runtimes failed:\n" + "\n".join(binder.errors)


@pytest.fixture(name="scenario_lab")
def scenario_lab_fixture(lab: Lab, fake_tools: FakeTools, scenario_runtimes: RuntimePool) -> Iterator[ScenarioLab]:
    """Knative-mode lab stack + Istio gateway pod routed to the harness router + pods bound to real runtimes."""
    lab.seed()
    gateway = seed_gateway(lab.cluster)
    with serving(lab.cluster, scenario_runtimes) as (router, binder):
        yield ScenarioLab(lab, fake_tools, router, binder, scenario_runtimes, gateway)
