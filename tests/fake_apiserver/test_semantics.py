"""Raw HTTP checks of the fake API server: discovery, OpenAPI, REST semantics, Status bodies."""

from __future__ import annotations

import json
import time
from http.client import HTTPConnection

import pytest
import yaml

from tests.fakecluster.resources import CONFIGMAPS, DEPLOYMENTS, PODS, REPLICASETS
from tests.fakecluster.store import owner_reference

from .helpers import ISVC, ISVC_PATH, Http, expect_status, isvc_body, namespace, seed_isvc, seed_pod

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


@pytest.fixture
def http(fake_cluster):
    return Http(fake_cluster)


# -- discovery --------------------------------------------------------------------------------------
def test_version(http, fake_cluster):
    body = http("GET", "/version").json()
    assert body["gitVersion"] == fake_cluster.kubernetes_version == "v1.34.0"
    assert (body["major"], body["minor"], body["platform"]) == ("1", "34", "linux/amd64")


def test_legacy_discovery(http):
    assert http("GET", "/api").json()["versions"] == ["v1"]
    groups = {g["name"]: g for g in http("GET", "/apis").json()["groups"]}
    assert groups["serving.kserve.io"]["preferredVersion"]["groupVersion"] == "serving.kserve.io/v1beta1"
    assert {v["version"] for v in groups["serving.kserve.io"]["versions"]} == {"v1beta1", "v1alpha1"}
    assert http("GET", "/apis/apps").json()["kind"] == "APIGroup"

    core = {r["name"]: r for r in http("GET", "/api/v1").json()["resources"]}
    assert core["pods"]["namespaced"] is True and core["pods"]["shortNames"] == ["po"]
    assert core["pods"]["singularName"] == "pod" and "watch" in core["pods"]["verbs"]
    assert core["namespaces"]["namespaced"] is False
    for sub in ("pods/log", "pods/status", "pods/proxy", "pods/portforward"):
        assert sub in core, sub
    assert core["pods/log"]["verbs"] == ["get"]
    apps = {r["name"]: r for r in http("GET", "/apis/apps/v1").json()["resources"]}
    assert (apps["deployments/scale"]["group"], apps["deployments/scale"]["kind"]) == ("autoscaling", "Scale")
    kserve = http("GET", "/apis/serving.kserve.io/v1beta1").json()
    assert kserve["groupVersion"] == "serving.kserve.io/v1beta1"
    entries = {r["name"]: r for r in kserve["resources"]}
    assert entries["inferenceservices"]["kind"] == "InferenceService"
    assert entries["inferenceservices"]["shortNames"] == ["isvc"]
    assert "all" in entries["inferenceservices"]["categories"]
    assert entries["inferenceservices/status"]["verbs"] == ["get", "patch", "update"]
    assert http("GET", "/apis/serving.kserve.io/v9").status_code == 404


def test_aggregated_discovery_only_when_asked(http):
    resp = http("GET", "/apis", headers={"Accept": f"{AGGREGATED},application/json"})
    assert resp.headers["Content-Type"] == AGGREGATED
    groups = {item["metadata"]["name"]: item for item in resp.json()["items"]}
    (isvc,) = [r for r in groups["serving.kserve.io"]["versions"][0]["resources"]
               if r["resource"] == "inferenceservices"]
    assert isvc["responseKind"] == {"group": "serving.kserve.io", "version": "v1beta1", "kind": "InferenceService"}
    assert (isvc["scope"], isvc["shortNames"]) == ("Namespaced", ["isvc"])
    core = http("GET", "/api", headers={"Accept": AGGREGATED}).json()
    assert [i["metadata"]["name"] for i in core["items"]] == [""]
    # plain JSON first, or an aggregated version we do not serve: the legacy documents
    assert http("GET", "/apis", headers={"Accept": "application/json"}).json()["kind"] == "APIGroupList"
    v2beta1 = AGGREGATED.replace("v=v2", "v=v2beta1")
    assert http("GET", "/apis", headers={"Accept": f"{v2beta1},application/json"}).json()["kind"] == "APIGroupList"


def test_openapi_v3(http):
    index = http("GET", "/openapi/v3").json()["paths"]
    assert "api/v1" in index and "apis/serving.kserve.io/v1beta1" in index
    doc = http("GET", index["apis/serving.kserve.io/v1beta1"]["serverRelativeURL"]).json()
    op = doc["paths"]["/apis/serving.kserve.io/v1beta1/namespaces/{namespace}/inferenceservices/{name}"]["patch"]
    assert op["x-kubernetes-group-version-kind"] == {"group": "serving.kserve.io", "version": "v1beta1",
                                                     "kind": "InferenceService"}
    assert "fieldValidation" in {p["name"] for p in op["parameters"]}
    assert "application/strategic-merge-patch+json" not in op["requestBody"]["content"]
    core = http("GET", "/openapi/v3/api/v1").json()
    ns_patch = core["paths"]["/api/v1/namespaces/{name}"]["patch"]
    assert ns_patch["x-kubernetes-group-version-kind"]["kind"] == "Namespace"
    assert "application/strategic-merge-patch+json" in ns_patch["requestBody"]["content"]
    expect_status(http("GET", "/openapi/v2"), 404, "NotFound")


def test_unknown_paths_and_methods(http):
    body = expect_status(http("GET", "/apis/serving.kserve.io/v1beta1/namespaces/x/widgets"), 404, "NotFound")
    assert body["message"] == "the server could not find the requested resource"
    expect_status(http("GET", "/nope"), 404, "NotFound")
    expect_status(http("POST", ISVC_PATH + "/x", {}), 405, "MethodNotAllowed")
    expect_status(http("GET", "/api/v1/namespaces/default/nodes"), 404, "NotFound")  # cluster-scoped type under a ns


# -- CRUD ------------------------------------------------------------------------------------------
def test_create_get_list_replace(http, fake_cluster):
    namespace(fake_cluster)
    created = http("POST", ISVC_PATH, isvc_body())
    assert created.status_code == 201
    obj = created.json()
    assert (obj["apiVersion"], obj["kind"], obj["metadata"]["generation"]) == \
        ("serving.kserve.io/v1beta1", "InferenceService", 1)
    expect_status(http("POST", ISVC_PATH, isvc_body()), 409, "AlreadyExists")
    got = http("GET", f"{ISVC_PATH}/sklearn-iris").json()
    assert got["metadata"]["uid"] == obj["metadata"]["uid"] and got["kind"] == "InferenceService"

    listed = http("GET", ISVC_PATH + "?limit=500").json()
    assert listed["kind"] == "InferenceServiceList" and listed["apiVersion"] == "serving.kserve.io/v1beta1"
    assert int(listed["metadata"]["resourceVersion"]) >= int(obj["metadata"]["resourceVersion"])
    assert [i["metadata"]["name"] for i in listed["items"]] == ["sklearn-iris"]
    everywhere = http("GET", "/apis/serving.kserve.io/v1beta1/inferenceservices").json()
    assert [i["metadata"]["namespace"] for i in everywhere["items"]] == ["kserve-test"]

    got["spec"]["predictor"]["minReplicas"] = 2
    replaced = http("PUT", f"{ISVC_PATH}/sklearn-iris", got)
    assert replaced.status_code == 200 and replaced.json()["metadata"]["generation"] == 2
    expect_status(http("PUT", f"{ISVC_PATH}/sklearn-iris", got), 409, "Conflict")  # got's resourceVersion is stale


def test_yaml_request_bodies(http, fake_cluster):
    namespace(fake_cluster)
    resp = http("POST", ISVC_PATH, yaml.safe_dump(isvc_body()), content_type="application/yaml")
    assert resp.status_code == 201 and resp.json()["spec"]["predictor"]["model"]["modelFormat"]["name"] == "sklearn"
    expect_status(http("POST", ISVC_PATH, b"\x0a\x02k8s", content_type="application/vnd.kubernetes.protobuf"), 415,
                  "UnsupportedMediaType")


def test_bad_requests(http, fake_cluster):
    namespace(fake_cluster)
    body = expect_status(http("POST", ISVC_PATH, "{not json"), 400, "BadRequest")
    assert "json parse error" in body["message"]
    other_ns = isvc_body()
    other_ns["metadata"]["namespace"] = "default"
    expect_status(http("POST", ISVC_PATH, other_ns), 400, "BadRequest")
    wrong_kind = dict(isvc_body(), kind="Pod")
    expect_status(http("POST", ISVC_PATH, wrong_kind), 400, "BadRequest")
    body = expect_status(http("GET", ISVC_PATH + "?fieldSelector=spec.predictor=x"), 400, "BadRequest")
    assert body["message"] == "field label not supported: spec.predictor"
    no_ns = isvc_body()
    del no_ns["metadata"]["namespace"]
    body = expect_status(http("POST", "/apis/serving.kserve.io/v1beta1/namespaces/ghost/inferenceservices", no_ns),
                         404, "NotFound")
    assert body["message"] == 'namespaces "ghost" not found'



def test_patch_content_types(http, fake_cluster):
    seed_isvc(fake_cluster)
    url = f"{ISVC_PATH}/sklearn-iris"
    resp = http("PATCH", url, {"spec": {"predictor": {"minReplicas": 1}}}, content_type="application/merge-patch+json")
    assert resp.status_code == 200 and resp.json()["spec"]["predictor"]["minReplicas"] == 1
    ops = [{"op": "replace", "path": "/spec/predictor/minReplicas", "value": 3}]
    assert http("PATCH", url, ops, content_type="application/json-patch+json").json()["spec"]["predictor"][
        "minReplicas"] == 3
    body = expect_status(http("PATCH", url, {"spec": {}}, content_type="application/strategic-merge-patch+json"),
                         415, "UnsupportedMediaType")
    assert "application/merge-patch+json" in body["message"]
    expect_status(http("PATCH", url, {"spec": {}}, content_type="text/plain"), 415, "UnsupportedMediaType")
    bad_op = [{"op": "remove", "path": "/spec/nothing"}]
    expect_status(http("PATCH", url, bad_op, content_type="application/json-patch+json"), 422, "Invalid")
    # strategic merge works for built-in kinds: containers merge by name
    seed_pod(fake_cluster, "p", containers=("a", "b"))
    patched = http("PATCH", "/api/v1/namespaces/kserve-test/pods/p",
                   {"spec": {"containers": [{"name": "b", "image": "new"}]}},
                   content_type="application/strategic-merge-patch+json").json()
    assert [(c["name"], c["image"]) for c in patched["spec"]["containers"]] == \
        [("a", "kserve/sklearnserver:v0.15.2"), ("b", "new")]


def test_apply_patch_yaml(http, fake_cluster):
    namespace(fake_cluster)
    url = f"{ISVC_PATH}/sklearn-iris?fieldManager=kslab"
    created = http("PATCH", url, yaml.safe_dump(isvc_body()), content_type="application/apply-patch+yaml")
    assert created.status_code == 201 and created.json()["kind"] == "InferenceService"
    changed = isvc_body(storage="s3://bucket/model")
    updated = http("PATCH", url + "&force=true", json.dumps(changed), content_type="application/apply-patch+yaml")
    assert updated.status_code == 200
    assert updated.json()["spec"]["predictor"]["model"]["storageUri"] == "s3://bucket/model"
    body = expect_status(http("PATCH", f"{ISVC_PATH}/sklearn-iris", yaml.safe_dump(changed),
                              content_type="application/apply-patch+yaml"), 422, "Invalid")
    assert "fieldManager" in body["message"]
    expect_status(http("PATCH", f"{ISVC_PATH}/sklearn-iris?force=true", {"spec": {}},
                       content_type="application/merge-patch+json"), 422, "Invalid")


def test_dry_run_does_not_persist(http, fake_cluster):
    namespace(fake_cluster)
    before = fake_cluster.store.resource_version
    resp = http("POST", ISVC_PATH + "?dryRun=All", isvc_body())
    assert resp.status_code == 201 and resp.json()["metadata"]["uid"]
    assert fake_cluster.store.find(ISVC, "kserve-test", "sklearn-iris") is None
    assert fake_cluster.store.resource_version == before
    seed_isvc(fake_cluster)
    resp = http("PATCH", f"{ISVC_PATH}/sklearn-iris?dryRun=All", {"spec": {"predictor": {"minReplicas": 4}}},
                content_type="application/merge-patch+json")
    assert resp.json()["spec"]["predictor"]["minReplicas"] == 4
    assert "minReplicas" not in fake_cluster.store.get(ISVC, "kserve-test", "sklearn-iris")["spec"]["predictor"]
    assert http("DELETE", f"{ISVC_PATH}/sklearn-iris?dryRun=All").status_code == 200
    assert fake_cluster.store.find(ISVC, "kserve-test", "sklearn-iris") is not None
    expect_status(http("POST", ISVC_PATH + "?dryRun=All", isvc_body()), 409, "AlreadyExists")


def test_status_subresource(http, fake_cluster):
    seed_isvc(fake_cluster)
    obj = http("GET", f"{ISVC_PATH}/sklearn-iris/status").json()
    obj["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    obj["spec"]["predictor"]["minReplicas"] = 9
    resp = http("PUT", f"{ISVC_PATH}/sklearn-iris/status", obj).json()
    assert resp["status"]["conditions"][0]["status"] == "True" and "minReplicas" not in resp["spec"]["predictor"]
    # a main-resource write cannot change status
    resp["status"] = {}
    resp["spec"]["predictor"]["minReplicas"] = 2
    main = http("PUT", f"{ISVC_PATH}/sklearn-iris", resp).json()
    assert main["status"]["conditions"][0]["status"] == "True" and main["spec"]["predictor"]["minReplicas"] == 2
    patched = http("PATCH", f"{ISVC_PATH}/sklearn-iris/status", {"status": {"url": "http://x"}},
                   content_type="application/merge-patch+json").json()
    assert patched["status"]["url"] == "http://x"
    expect_status(http("GET", "/api/v1/namespaces/kserve-test/configmaps/x/status"), 404, "NotFound")


def test_scale_subresource(http, fake_cluster):
    namespace(fake_cluster)
    fake_cluster.store.create(DEPLOYMENTS, "kserve-test", {
        "metadata": {"name": "web"}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}}})
    url = "/apis/apps/v1/namespaces/kserve-test/deployments/web/scale"
    scale = http("GET", url).json()
    assert (scale["apiVersion"], scale["kind"], scale["spec"]["replicas"]) == ("autoscaling/v1", "Scale", 1)
    scale["spec"]["replicas"] = 4
    assert http("PUT", url, scale).json()["spec"]["replicas"] == 4
    expect_status(http("PUT", url, scale), 409, "Conflict")  # stale resourceVersion
    zero = http("PATCH", url, {"spec": {"replicas": 0}}, content_type="application/merge-patch+json").json()
    assert zero["spec"]["replicas"] == 0
    expect_status(http("PATCH", url, {"spec": {"replicas": -1}}, content_type="application/merge-patch+json"), 422,
                  "Invalid")


# -- deletion --------------------------------------------------------------------------------------
def test_delete_replies(http, fake_cluster):
    seed_isvc(fake_cluster)
    resp = http("DELETE", f"{ISVC_PATH}/sklearn-iris", {"propagationPolicy": "Background"})
    assert resp.status_code == 200 and resp.json()["kind"] == "InferenceService"
    expect_status(http("DELETE", f"{ISVC_PATH}/sklearn-iris"), 404, "NotFound")
    fake_cluster.store.create(CONFIGMAPS, "kserve-test", {"metadata": {"name": "c"}})
    body = http("DELETE", "/api/v1/namespaces/kserve-test/configmaps/c").json()
    assert (body["kind"], body["status"], body["details"]["name"]) == ("Status", "Success", "c")
    expect_status(http("DELETE", "/api/v1/namespaces/kserve-test/configmaps/x?propagationPolicy=Sideways"), 422,
                  "Invalid")


def test_finalizers_keep_object_until_removed(http, fake_cluster):
    namespace(fake_cluster)
    fake_cluster.store.create(ISVC, "kserve-test", {"metadata": {"name": "f", "finalizers": ["kserve/cleanup"]}})
    resp = http("DELETE", f"{ISVC_PATH}/f")
    assert resp.status_code == 200 and resp.json()["metadata"]["deletionTimestamp"]
    live = http("GET", f"{ISVC_PATH}/f").json()
    assert live["metadata"]["deletionTimestamp"] and live["metadata"]["finalizers"] == ["kserve/cleanup"]
    http("PATCH", f"{ISVC_PATH}/f", {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json")
    expect_status(http("GET", f"{ISVC_PATH}/f"), 404, "NotFound")


@pytest.mark.parametrize(("query", "body", "children_survive"), [
    ("", None, False),
    ("?propagationPolicy=Foreground", None, False),
    ("", {"propagationPolicy": "Orphan"}, True),
    ("?propagationPolicy=Orphan", None, True),
])
def test_owner_reference_cascade(http, fake_cluster, query, body, children_survive):
    namespace(fake_cluster)
    store = fake_cluster.store
    deploy = store.create(DEPLOYMENTS, "kserve-test", {"metadata": {"name": "web"}, "spec": {"replicas": 1}})
    rs = store.create(REPLICASETS, "kserve-test", {"metadata": {"name": "web-123",
                                                                "ownerReferences": [owner_reference(deploy)]}})
    store.create(PODS, "kserve-test", {"metadata": {"name": "web-123-x", "ownerReferences": [owner_reference(rs)]},
                                       "spec": {"containers": [{"name": "c"}]}})
    resp = http("DELETE", "/apis/apps/v1/namespaces/kserve-test/deployments/web" + query, body)
    assert resp.status_code == 200
    assert store.find(DEPLOYMENTS, "kserve-test", "web") is None
    rs_left = store.find(REPLICASETS, "kserve-test", "web-123")
    assert (rs_left is not None) == children_survive
    assert (store.find(PODS, "kserve-test", "web-123-x") is not None) == children_survive
    if children_survive:
        assert not rs_left["metadata"].get("ownerReferences")


def test_namespace_delete_removes_contents(http, fake_cluster):
    seed_isvc(fake_cluster)
    seed_pod(fake_cluster, "p")
    resp = http("DELETE", "/api/v1/namespaces/kserve-test")
    assert resp.status_code == 200 and resp.json()["kind"] == "Namespace"
    assert http("GET", ISVC_PATH).json()["items"] == []
    assert http("GET", "/api/v1/pods").json()["items"] == []
    expect_status(http("GET", "/api/v1/namespaces/kserve-test"), 404, "NotFound")


def test_delete_collection(http, fake_cluster):
    namespace(fake_cluster)
    for name, app in (("a", "x"), ("b", "x"), ("c", "y")):
        fake_cluster.store.create(CONFIGMAPS, "kserve-test", {"metadata": {"name": name, "labels": {"app": app}}})
    resp = http("DELETE", "/api/v1/namespaces/kserve-test/configmaps?labelSelector=app%3Dx")
    assert sorted(i["metadata"]["name"] for i in resp.json()["items"]) == ["a", "b"]
    assert [c["metadata"]["name"] for c in fake_cluster.store.list(CONFIGMAPS, "kserve-test")[0]] == ["c"]


# -- tables and the request log --------------------------------------------------------------------
def test_table_output(http, fake_cluster):
    seed_pod(fake_cluster, "p")
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    table = http("GET", "/api/v1/pods?limit=500", headers={"Accept": accept}).json()
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Ready", "Status", "Restarts", "Age"]
    (row,) = table["rows"]
    assert row["cells"][:4] == ["p", "0/1", "Running", "0"]
    assert row["object"]["kind"] == "PartialObjectMetadata" and row["object"]["metadata"]["namespace"] == "kserve-test"
    assert http("GET", "/api/v1/pods", headers={"Accept": "application/json"}).json()["kind"] == "PodList"


def test_request_log_records_what_clients_sent(http, fake_cluster):
    fake_cluster.server.clear_log()
    http("GET", "/api/v1/namespaces?limit=1", headers={"User-Agent": "probe/1.0", "Kubectl-Command": "kubectl get"})
    http("PATCH", "/api/v1/namespaces/default", {"metadata": {"labels": {"a": "b"}}},
         content_type="application/merge-patch+json")
    first, second = fake_cluster.server.requests()
    assert (first.method, first.path, first.user_agent, first.kubectl_command, first.status) == \
        ("GET", "/api/v1/namespaces?limit=1", "probe/1.0", "kubectl get", 200)
    assert (second.method, second.content_type, second.status) == ("PATCH", "application/merge-patch+json", 200)


def test_idle_connections_are_closed_on_stop(fake_cluster):
    host, port = fake_cluster.server.address
    conn = HTTPConnection(host, port, timeout=5)
    conn.request("GET", "/version")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Length") and json.loads(resp.read())["gitVersion"]
    start = time.monotonic()
    fake_cluster.stop()
    assert time.monotonic() - start < 3
    assert conn.sock.recv(1024) == b""  # the server hung up on the idle keep-alive connection
    conn.close()
