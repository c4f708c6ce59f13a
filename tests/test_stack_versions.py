"""manifests/stack/versions.yaml read by kslab.stack.versions, and its pins held against upstream.

The literal versions below are upstream facts, not a restatement of the file: each KServe release's own install
pins (kserve/kserve@<tag>:kserve-deps.env from 0.16, the variables at the top of
kserve/kserve@v0.15.2:hack/quick_install.sh before) and the kind node images (kubernetes-sigs/kind@<release>:
pkg/apis/config/defaults/image.go). Where a test only checks kslab's reading of the file it reads the file
(tests/versions_support.py).
"""

from __future__ import annotations

import pytest

from kslab.errors import UsageError
from kslab.stack.versions import load_matrix
from tests.versions_support import pins, versions_file

MATRIX = load_matrix()

# (minor, kserve tag, istio, knative serving, operator, operator namespace, cert-manager, min k8s): upstream, as
# kserve/kserve@<kserve tag>:kserve-deps.env (0.16+) or kserve/kserve@v0.15.2:hack/quick_install.sh (0.15) pin them
# (ISTIO_VERSION, KNATIVE_SERVING_VERSION, KNATIVE_OPERATOR_VERSION, CERT_MANAGER_VERSION); the operator namespace
# from the same scripts; the minimum Kubernetes from each release's docs (docs/upstream-sources.md)
UPSTREAM_PINS = [
    ("0.15", "v0.15.2", "1.23.2", "1.15.2", "v1.15.7", "knative-serving", "v1.16.1", "1.30"),
    ("0.16", "v0.16.0", "1.27.1", "1.15.2", "v1.15.7", "knative-serving", "v1.16.1", "1.32"),
    ("0.17", "v0.17.1", "1.27.1", "1.21.1", "v1.21.1", "knative-operator", "v1.17.0", "1.32"),
    ("0.18", "v0.18.1", "1.27.1", "1.21.1", "v1.21.1", "knative-operator", "v1.17.0", "1.32"),
    ("0.19", "v0.19.0", "1.27.1", "1.21.1", "v1.21.1", "knative-operator", "v1.17.0", "1.32"),
    ("0.20", "v0.20.0", "1.27.1", "1.21.1", "v1.21.1", "knative-operator", "v1.17.0", "1.32"),
]


@pytest.mark.parametrize("row", UPSTREAM_PINS, ids=[r[0] for r in UPSTREAM_PINS])
def test_release_pins_match_upstream(row):
    minor, kserve, istio, serving, operator, operator_ns, cert_manager, k8s_min = row
    release = MATRIX.release(minor)
    assert (release.kserve, release.istio, release.knative_serving, release.knative_operator) == (
        kserve, istio, serving, operator)
    assert release.knative_operator_namespace == operator_ns
    assert release.cert_manager == cert_manager
    assert release.kubernetes_min == k8s_min


def test_the_default_release_is_the_files_default():
    assert MATRIX.release().minor == versions_file()["default"]
    assert MATRIX.release().kserve == pins()["kserve"]


def test_chart_names_change_at_0_17():
    assert MATRIX.release("0.16").controller_chart == "kserve"
    assert MATRIX.release("0.16").runtimes_chart is None  # runtimes ship inside the kserve chart
    for minor in ("0.17", "0.18", "0.19", "0.20"):
        assert MATRIX.release(minor).controller_chart == "kserve-resources"
        assert MATRIX.release(minor).runtimes_chart == "kserve-runtime-configs"
    assert MATRIX.charts["kserve_oci"] == "oci://ghcr.io/kserve/charts"


def test_deployment_mode_names_change_at_0_16():
    assert MATRIX.release("0.15").deployment_mode("standard") == "RawDeployment"
    assert MATRIX.release("0.15").deployment_mode("knative") == "Serverless"
    assert MATRIX.release("0.16").deployment_mode("standard") == "Standard"
    assert MATRIX.release("0.20").deployment_mode("knative") == "Knative"


def test_kind_node_images_meet_the_kubernetes_minimum():
    for release in MATRIX.releases.values():
        node_minor = tuple(int(p) for p in release.kind.node_image.split(":v")[1].split(".")[:2])
        assert node_minor >= tuple(int(p) for p in release.kubernetes_min.split("."))
    # upstream: KServe 0.17+ pins KIND_VERSION v0.30.0 (kserve/kserve@v0.20.0:kserve-deps.env), whose default node
    # image is this digest (kubernetes-sigs/kind@v0.30.0:pkg/apis/config/defaults/image.go)
    assert MATRIX.release("0.20").kind.kind_release == "v0.30.0"
    assert MATRIX.release("0.20").kind.node_image == ("kindest/node:v1.34.0@sha256:"
                                                      "7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a")
    assert MATRIX.release("0.20").kind.kubernetes == "v1.34.0"


@pytest.mark.parametrize("minor", sorted(versions_file()["releases"]))
def test_version_spellings(minor):
    tag = pins(minor)["kserve"]  # "v0.20.0"
    for spelling in (minor, tag.removeprefix("v"), tag):
        assert MATRIX.release(spelling).minor == minor, spelling


def test_unpinned_patch_and_unknown_minor_are_usage_errors():
    with pytest.raises(UsageError, match=r"0\.20\.1 is not pinned"):
        MATRIX.release("0.20.1")
    with pytest.raises(UsageError, match="not in the version matrix"):
        MATRIX.release("0.13")
