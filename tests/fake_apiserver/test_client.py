"""The official kubernetes Python client against the fake API server (what kslab's code uses)."""

from __future__ import annotations

import json

import pytest
from kubernetes import client, dynamic, watch

from tests.fakecluster.resources import PODS

from .helpers import ISVC, isvc_body, mark_ready, namespace, seed_isvc, seed_pod, when_watching

KSERVE = ("serving.kserve.io", "v1beta1", "kserve-test", "inferenceservices")


def _pod(name: str, labels: dict[str, str]) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "main", "image": "busybox"}]}}


def test_namespace_and_pod_crud(fake_cluster, k8s):
    core = k8s.core
    ns = core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kserve-test"}})
    assert ns.status.phase == "Active"
    assert core.read_namespace("kserve-test").metadata.labels == {"kubernetes.io/metadata.name": "kserve-test"}

    created = core.create_namespaced_pod("kserve-test", _pod("a", {"app": "sklearn", "tier": "predictor"}))
    core.create_namespaced_pod("kserve-test", _pod("b", {"app": "other"}))
    assert created.metadata.uid and created.metadata.resource_version
    with pytest.raises(client.ApiException) as dup:
        core.create_namespaced_pod("kserve-test", _pod("a", {}))
    assert dup.value.status == 409 and json.loads(dup.value.body)["reason"] == "AlreadyExists"

    assert core.read_namespaced_pod("a", "kserve-test").spec.containers[0].image == "busybox"
    listed = core.list_namespaced_pod("kserve-test", label_selector="app=sklearn")
    assert [p.metadata.name for p in listed.items] == ["a"]
    assert int(listed.metadata.resource_version) >= int(created.metadata.resource_version)
    assert [p.metadata.name for p in core.list_namespaced_pod("kserve-test", label_selector="app!=sklearn").items] \
        == ["b"]
    assert [p.metadata.name for p in core.list_pod_for_all_namespaces(field_selector="metadata.name=b").items] \
        == ["b"]

    patched = core.patch_namespaced_pod("a", "kserve-test", {"metadata": {"labels": {"tier": None, "v": "2"}}},
                                        _content_type="application/merge-patch+json")
    assert patched.metadata.labels == {"app": "sklearn", "v": "2"}
    patched = core.patch_namespaced_pod("a", "kserve-test",
                                        [{"op": "replace", "path": "/spec/containers/0/image", "value": "busybox:2"}],
                                        _content_type="application/json-patch+json")
    assert patched.spec.containers[0].image == "busybox:2"

    stale = core.read_namespaced_pod("a", "kserve-test")
    core.patch_namespaced_pod("a", "kserve-test", {"metadata": {"labels": {"v": "3"}}},
                              _content_type="application/merge-patch+json")
    stale.metadata.labels["v"] = "4"
    with pytest.raises(client.ApiException) as conflict:
        core.replace_namespaced_pod("a", "kserve-test", stale)
    assert conflict.value.status == 409 and json.loads(conflict.value.body)["reason"] == "Conflict"
    fresh = core.read_namespaced_pod("a", "kserve-test")
    fresh.metadata.labels["v"] = "4"
    assert core.replace_namespaced_pod("a", "kserve-test", fresh).metadata.labels["v"] == "4"

    core.delete_namespaced_pod("a", "kserve-test")
    with pytest.raises(client.ApiException) as gone:
        core.read_namespaced_pod("a", "kserve-test")
    assert gone.value.status == 404
    assert json.loads(gone.value.body)["message"] == 'pods "a" not found'


def test_server_side_apply_with_custom_objects_api(fake_cluster, k8s):
    namespace(fake_cluster)
    result = k8s.custom.patch_namespaced_custom_object(*KSERVE, "sklearn-iris", isvc_body(), field_manager="kslab",
                                                       _content_type="application/apply-patch+yaml")
    # The apiserver answers 201 on create; this client's response map knows only 200, so it returns None.
    assert result is None
    assert fake_cluster.server.requests("PATCH")[-1].status == 201
    got = k8s.custom.get_namespaced_custom_object(*KSERVE, "sklearn-iris")
    assert got["metadata"]["managedFields"][0]["manager"] == "kslab"

    body = isvc_body(storage="s3://models/sklearn/v2")
    updated = k8s.custom.patch_namespaced_custom_object(*KSERVE, "sklearn-iris", body, field_manager="kslab",
                                                        force=True, _content_type="application/apply-patch+yaml")
    assert updated["spec"]["predictor"]["model"]["storageUri"] == "s3://models/sklearn/v2"
    assert updated["metadata"]["generation"] == 2
    assert "force=true" in fake_cluster.server.requests("PATCH")[-1].path.lower()

    with pytest.raises(client.ApiException) as missing_manager:
        k8s.custom.patch_namespaced_custom_object(*KSERVE, "sklearn-iris", body,
                                                  _content_type="application/apply-patch+yaml")
    assert missing_manager.value.status == 422


def test_watch_sees_ready_transition(fake_cluster, k8s):
    seed_isvc(fake_cluster)
    when_watching(fake_cluster, "inferenceservices", lambda: mark_ready(fake_cluster))
    seen = []
    stream = watch.Watch()
    for event in stream.stream(k8s.custom.list_namespaced_custom_object, *KSERVE, timeout_seconds=10):
        conditions = (event["object"].get("status") or {}).get("conditions") or []
        seen.append((event["type"], {c["type"]: c["status"] for c in conditions}))
        if event["type"] == "MODIFIED":
            stream.stop()
    assert seen == [("ADDED", {}), ("MODIFIED", {"Ready": "True"})]


def test_watch_from_compacted_resource_version_raises_410(fake_cluster, k8s):
    first = seed_isvc(fake_cluster)
    seed_isvc(fake_cluster, "second")
    fake_cluster.store.compact()
    with pytest.raises(client.ApiException) as expired:
        for _ in watch.Watch().stream(k8s.custom.list_namespaced_custom_object, *KSERVE,
                                      resource_version=first["metadata"]["resourceVersion"]):
            pass
    assert expired.value.status == 410
    assert expired.value.reason.startswith("Expired: too old resource version")
    # the client retried once after the first ERROR event, as it does against a real cluster
    assert len(fake_cluster.server.requests("GET", "watch=true")) == 2


def test_watch_resumes_from_list_resource_version(fake_cluster, k8s):
    seed_isvc(fake_cluster)
    listed = k8s.custom.list_namespaced_custom_object(*KSERVE)
    seed_isvc(fake_cluster, "second")
    when_watching(fake_cluster, "inferenceservices", lambda: seed_isvc(fake_cluster, "third"))
    seen = []
    stream = watch.Watch()
    for event in stream.stream(k8s.custom.list_namespaced_custom_object, *KSERVE, timeout_seconds=5,
                               resource_version=listed["metadata"]["resourceVersion"]):
        seen.append((event["type"], event["object"]["metadata"]["name"]))
        if len(seen) == 2:
            stream.stop()
    assert seen == [("ADDED", "second"), ("ADDED", "third")]


def test_pod_proxy_with_path(fake_cluster, k8s, backend):
    seed_pod(fake_cluster, "predictor-0")
    fake_cluster.node.register_proxy("kserve-test", "predictor-0", 8080, backend.url)
    # The client json-decodes a JSON reply and then str()s it (a real-cluster quirk too): read raw bytes instead.
    text = k8s.core.connect_get_namespaced_pod_proxy_with_path("predictor-0:8080", "kserve-test",
                                                               "v1/models/sklearn-iris")
    assert text == str({"method": "GET", "path": "/v1/models/sklearn-iris", "body": ""})
    resp = k8s.core.connect_get_namespaced_pod_proxy_with_path("predictor-0:8080", "kserve-test", "v1/models/x",
                                                               _preload_content=False)
    assert resp.status == 200 and resp.headers["Content-Type"] == "application/json"
    assert json.loads(resp.read())["path"] == "/v1/models/x"
    # no port: the first declared container port (8080) is used, as the real apiserver does
    k8s.core.connect_post_namespaced_pod_proxy_with_path("predictor-0", "kserve-test", "v1/models/x:predict")
    assert backend.seen[-1][:2] == ("POST", "/v1/models/x:predict")


def test_read_pod_log(fake_cluster, k8s):
    seed_pod(fake_cluster, "predictor-0", containers=("kserve-container", "queue-proxy"))
    fake_cluster.node.append_log("kserve-test", "predictor-0", "kserve-container", "a\nb\nc\n")
    assert k8s.core.read_namespaced_pod_log("predictor-0", "kserve-test", container="kserve-container") == "a\nb\nc\n"
    assert k8s.core.read_namespaced_pod_log("predictor-0", "kserve-test", container="kserve-container",
                                            tail_lines=2) == "b\nc\n"
    with pytest.raises(client.ApiException) as ambiguous:
        k8s.core.read_namespaced_pod_log("predictor-0", "kserve-test")
    assert ambiguous.value.status == 400
    assert json.loads(ambiguous.value.body)["message"] == (
        "a container name must be specified for pod predictor-0, choose one of: [kserve-container queue-proxy]")


def test_deployment_scale_subresource(fake_cluster, k8s):
    namespace(fake_cluster)
    k8s.apps.create_namespaced_deployment("kserve-test", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
    scale = k8s.apps.read_namespaced_deployment_scale("web", "kserve-test")
    assert (scale.spec.replicas, scale.status.selector) == (2, "app=web")
    scale = k8s.apps.patch_namespaced_deployment_scale("web", "kserve-test", {"spec": {"replicas": 5}},
                                                       _content_type="application/merge-patch+json")
    assert scale.spec.replicas == 5
    assert k8s.apps.read_namespaced_deployment("web", "kserve-test").spec.replicas == 5


def test_list_pagination(fake_cluster, k8s):
    namespace(fake_cluster)
    for i in range(5):
        k8s.core.create_namespaced_config_map("kserve-test", {"metadata": {"name": f"cm-{i}"}, "data": {"i": str(i)}})
    names, token, pages = [], None, 0
    while True:
        page = k8s.core.list_namespaced_config_map("kserve-test", limit=2, _continue=token)
        names += [cm.metadata.name for cm in page.items]
        pages += 1
        token = page.metadata._continue
        if not token:
            break
    assert names == [f"cm-{i}" for i in range(5)] and pages == 3


def test_watch_label_selector_reports_objects_leaving_the_selection(fake_cluster, k8s):
    seed_pod(fake_cluster, "p", labels={"app": "sklearn"})

    def relabel() -> None:
        fake_cluster.store.patch(PODS, "kserve-test", "p", "application/merge-patch+json",
                                 {"metadata": {"labels": {"app": "other"}}})
    when_watching(fake_cluster, "pods", relabel)
    seen = []
    for event in watch.Watch().stream(k8s.core.list_namespaced_pod, "kserve-test", label_selector="app=sklearn",
                                      timeout_seconds=2):
        seen.append((event["type"], event["object"].metadata.labels["app"]))
        if event["type"] == "DELETED":
            break
    assert seen == [("ADDED", "sklearn"), ("DELETED", "other")]


def test_custom_object_status_subresource(fake_cluster, k8s):
    seed_isvc(fake_cluster)
    obj = k8s.custom.get_namespaced_custom_object(*KSERVE, "sklearn-iris")
    obj["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    obj["spec"]["predictor"]["minReplicas"] = 3  # ignored on the status subresource
    updated = k8s.custom.replace_namespaced_custom_object_status(*KSERVE, "sklearn-iris", obj)
    assert updated["status"]["conditions"][0]["status"] == "True"
    assert "minReplicas" not in updated["spec"]["predictor"]
    stored = fake_cluster.store.get(ISVC, "kserve-test", "sklearn-iris")
    assert stored["metadata"]["generation"] == 1


def test_dynamic_client_uses_legacy_discovery(fake_cluster, k8s):
    seed_isvc(fake_cluster)
    dyn = dynamic.DynamicClient(k8s.api_client)
    isvc = dyn.resources.get(api_version="serving.kserve.io/v1beta1", kind="InferenceService")
    assert isvc.namespaced and isvc.short_names == ["isvc"] and "status" in isvc.subresources
    assert [i.metadata.name for i in isvc.get(namespace="kserve-test").items] == ["sklearn-iris"]
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert set(deployments.subresources) == {"status", "scale"}
    assert fake_cluster.server.requests("GET", "/apis/serving.kserve.io/v1beta1")[0].accept == "application/json"
