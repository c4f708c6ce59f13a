"""The fake kubelet's image pulls (tests/fakecluster/controllers/image_pulls.py): what no registry serves and
no one loaded onto the node waits in ErrImagePull, then ImagePullBackOff, with the kubelet's Events."""

from __future__ import annotations

import pytest

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.controllers.image_pulls import full_reference, repository
from tests.fakecluster.controllers.lab import ensure_namespace, install_and_wait, wait_for
from tests.fakecluster.resources import EVENTS, PODS

NS = "images-test"


@pytest.fixture
def cluster(sim_cluster: FakeCluster) -> FakeCluster:
    install_and_wait(sim_cluster.store, sim_cluster.controllers.settings, lean=True, knative=False,
                     namespace=NS)
    return sim_cluster


def _pod(cluster: FakeCluster, name: str, image: str, **container: object) -> dict:
    return cluster.store.create(PODS, NS, {"metadata": {"name": name}, "spec": {
        "containers": [{"name": "main", "image": image, **container}]}})


def _waiting(cluster: FakeCluster, name: str) -> dict:
    status = (cluster.store.get(PODS, NS, name).get("status") or {}).get("containerStatuses") or [{}]
    return (status[0].get("state") or {}).get("waiting") or {}


def _phase(cluster: FakeCluster, name: str) -> str | None:
    return (cluster.store.get(PODS, NS, name).get("status") or {}).get("phase")


def _events(cluster: FakeCluster, name: str) -> list[tuple[str, str, str]]:
    return [(e["type"], e["reason"], e["message"]) for e in cluster.store.list(EVENTS, NS)[0]
            if e["involvedObject"]["name"] == name]


def test_an_image_no_registry_serves_goes_from_err_image_pull_to_image_pull_back_off(cluster):
    cluster.controllers.settings.image_pull_backoff = 0.3
    _pod(cluster, "explainer", "kslab/explainer:0.1.0")
    first = wait_for(lambda: _waiting(cluster, "explainer").get("reason") == "ErrImagePull"
                     and _waiting(cluster, "explainer"), 2, "ErrImagePull")
    assert first["message"].startswith('rpc error: code = NotFound desc = failed to pull and unpack image '
                                       '"docker.io/kslab/explainer:0.1.0": failed to resolve reference')
    assert "pull access denied, repository does not exist or may require authorization" in first["message"]
    backoff = wait_for(lambda: _waiting(cluster, "explainer").get("reason") == "ImagePullBackOff"
                       and _waiting(cluster, "explainer"), 3, "ImagePullBackOff")
    assert backoff["message"].startswith('Back-off pulling image "kslab/explainer:0.1.0": ErrImagePull: rpc error')
    pod = cluster.store.get(PODS, NS, "explainer")
    assert pod["status"]["phase"] == "Pending"
    events = _events(cluster, "explainer")
    assert ("Normal", "Pulling", 'Pulling image "kslab/explainer:0.1.0"') in events
    assert ("Warning", "Failed", f'Failed to pull image "kslab/explainer:0.1.0": {first["message"]}') in events
    assert ("Warning", "Failed", "Error: ErrImagePull") in events
    assert ("Normal", "BackOff", 'Back-off pulling image "kslab/explainer:0.1.0"') in events
    assert ("Warning", "Failed", "Error: ImagePullBackOff") in events
    [backoff_event] = [e for e in cluster.store.list(EVENTS, NS)[0] if e["reason"] == "BackOff"]
    assert backoff_event["involvedObject"]["fieldPath"] == "spec.containers{main}"
    assert backoff_event["source"] == {"component": "kubelet", "host": cluster.node_name}


def test_a_loaded_image_runs_and_loading_it_later_lets_a_stuck_pod_start(cluster):
    cluster.node.add_image("kslab/load:0.1.0")
    _pod(cluster, "loaded", "kslab/load:0.1.0")
    wait_for(lambda: _phase(cluster, "loaded") == "Running", 2, "loaded runs")
    assert ("Normal", "Pulled", 'Container image "kslab/load:0.1.0" already present on machine') in \
        _events(cluster, "loaded")
    _pod(cluster, "late", "kslab/explainer:0.1.0")
    wait_for(lambda: _waiting(cluster, "late").get("reason") in ("ErrImagePull", "ImagePullBackOff"), 2, "stuck")
    cluster.node.add_image("docker.io/kslab/explainer:0.1.0")  # `kind load docker-image` after the fact
    wait_for(lambda: _phase(cluster, "late") == "Running", 5, "late runs")


def test_stack_images_pull_and_pull_policies_count(cluster):
    _pod(cluster, "runtime", "kserve/sklearnserver:v0.20.0")  # a ClusterServingRuntime's image
    _pod(cluster, "initializer", "docker.io/kserve/storage-initializer:v0.20.0")  # inferenceservice-config
    _pod(cluster, "istio", "docker.io/istio/pilot:1.27.1")  # a chart's image
    _pod(cluster, "public", "busybox:1.36")
    for name in ("runtime", "initializer", "istio", "public"):
        wait_for(lambda n=name: _phase(cluster, n) == "Running", 2, name)
    cluster.node.add_image("kslab/load:dev")
    _pod(cluster, "never", "kslab/other:1", imagePullPolicy="Never")
    _pod(cluster, "always", "kslab/load:dev", imagePullPolicy="Always")  # on the node, but Always asks a registry
    wait_for(lambda: _waiting(cluster, "never").get("reason") == "ErrImageNeverPull", 2, "ErrImageNeverPull")
    assert _waiting(cluster, "never")["message"] == 'Container image "kslab/other:1" is not present with pull ' \
        "policy of Never"
    wait_for(lambda: _waiting(cluster, "always").get("reason") in ("ErrImagePull", "ImagePullBackOff"), 2, "Always")


def test_the_knob_lets_every_image_pull(cluster):
    cluster.controllers.settings.image_pulls = "any"
    _pod(cluster, "anything", "kslab/explainer:0.1.0")
    wait_for(lambda: _phase(cluster, "anything") == "Running", 2, "runs")


def test_init_container_images_are_pulled_first(cluster):
    ensure_namespace(cluster.store, NS)
    cluster.store.create(PODS, NS, {"metadata": {"name": "init"}, "spec": {
        "initContainers": [{"name": "fetch", "image": "ghcr.io/kslab/kslab-load:0.1.0"}],
        "containers": [{"name": "main", "image": "busybox:1.36"}]}})

    def init_waiting() -> dict:
        statuses = (cluster.store.get(PODS, NS, "init").get("status") or {}).get("initContainerStatuses") or [{}]
        return (statuses[0].get("state") or {}).get("waiting") or {}
    waiting = wait_for(lambda: init_waiting().get("reason") in ("ErrImagePull", "ImagePullBackOff")
                       and init_waiting(), 2, "the init container stuck")
    assert waiting["message"].endswith('"ghcr.io/kslab/kslab-load:0.1.0": ghcr.io/kslab/kslab-load:0.1.0: not found')


def test_references_normalise_like_containerd():
    assert repository("nginx:1.28") == "docker.io/library/nginx"
    assert repository("localhost:5000/x/y:1") == "localhost:5000/x/y"
    assert full_reference("kslab/load") == "docker.io/kslab/load:latest"
    assert full_reference("ghcr.io/a/b@sha256:00") == "ghcr.io/a/b@sha256:00"
