"""What kslab's stack install sets per KServe release, pinned to KServe's own install scripts.

- istiod runs with pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true from KServe 0.18 on
  (kserve/kserve@v0.18.1:hack/setup/infra/manage.istio-helm.sh), not only on 0.20.
- The ClusterServingRuntime webhook may refuse connections right after the controller starts (kserve/kserve#4182).
  The chart that creates the runtimes is retried: kserve-runtime-configs on 0.17+, and on 0.15/0.16 the kserve
  chart itself, which installs the runtimes in the same release as the controller.
"""

from __future__ import annotations

import pytest

from kslab.stack.components import load_components
from kslab.stack.versions import load_matrix
from tests.versions_support import pins

MATRIX = load_matrix()
FLAG = ("pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION", "true")


def _components(minor: str, mode: str = "knative") -> dict:
    return {c.name: c for c in load_components(MATRIX, MATRIX.release(minor), mode)}


def _chart(minor: str, component: str, release: str, mode: str = "knative"):
    [chart] = [c for c in _components(minor, mode)[component].charts if c.release == release]
    return chart


@pytest.mark.parametrize("minor", sorted(MATRIX.releases))
def test_istiod_enables_the_inference_extension_from_0_18(minor):
    values = _chart(minor, "istio", "istiod").values
    assert (FLAG in values) == (tuple(int(p) for p in minor.split(".")) >= (0, 18)), values


@pytest.mark.parametrize("minor", sorted(MATRIX.releases))
def test_the_chart_that_creates_the_runtimes_is_retried(minor):
    components = _components(minor)
    if MATRIX.release(minor).runtimes_chart is None:  # <= 0.16: the kserve chart brings the runtimes
        assert components["kserve"].retry_seconds == {"kserve": 30}
        assert "runtimes" not in components
        assert _chart(minor, "kserve", "kserve").string_values == (
            ("kserve.controller.deploymentMode", MATRIX.release(minor).deployment_mode("knative")),)
    else:
        assert components["runtimes"].retry_seconds == {"kserve-runtime-configs": 30}
        assert components["kserve"].retry_seconds == {}


def test_the_0_17_controller_chart_keeps_its_values():
    tag = pins("0.20")["kserve"]  # the file's pin; the chart must be told the same version
    assert _chart("0.20", "kserve", "kserve-resources").values == (("kserve.version", tag),)
    assert _chart("0.20", "kserve", "kserve-resources", "standard").values == (
        ("kserve.version", tag), ("kserve.controller.deploymentMode", "Standard"))
