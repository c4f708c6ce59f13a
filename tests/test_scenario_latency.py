"""`kslab scenario run latency-breakdown` end to end: gateway, revision Service, pod and model server."""

from __future__ import annotations

from tests.scenario_harness.fixture import (  # noqa: F401
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)


def test_latency_breakdown_measures_every_layer(scenario_lab, capsys):
    code, _, _ = scenario_lab.kslab(capsys, "-o", "json", "scenario", "run", "latency-breakdown",
                                    "--set", "requests=15", "--set", "ready_timeout=30s")
    [entry] = scenario_lab.lab.record()["scenarios"]
    assert (code, entry["verdict"]) == (0, "passed"), entry["reason"]
    obs = next(s for s in entry["steps"] if s["name"] == "layers")["observations"]
    layers, added = obs["layers"], obs["added_ms"]
    assert all(layers[k] > 0 for k in ("gateway_ms", "service_ms", "pod_ms", "server_predict_ms")), layers
    assert {len(v) for v in obs["samples_ms"].values()} == {15}
    # every measured request of the three layers ended in this one pod's model server (warm-ups came before)
    assert obs["server_requests_counted"] == 3 * 15
    assert obs["pod"].startswith("sklearn-iris-predictor-00001-deployment-") and obs["mode"] == "knative"
    # the model's predict time is inside every layer's round trip (the order of gateway/service/pod is not
    # asserted: the fake kubectl relay lacks TCP_NODELAY, so a layer can hit a 40 ms delayed-ACK stall)
    assert all(layers[k] > layers["server_predict_ms"] for k in ("gateway_ms", "service_ms", "pod_ms")), layers
    assert list(added) == ["gateway", "queue_proxy", "runtime"]  # the private Service reaches queue-proxy directly
    assert added["gateway"] == round(layers["gateway_ms"] - layers["service_ms"], 3)
    assert added["queue_proxy"] == round(layers["service_ms"] - layers["pod_ms"], 3)
    assert added["runtime"] == round(layers["pod_ms"] - layers["server_predict_ms"], 3)
    argv = [" ".join(a) for a in scenario_lab.tools.calls("kubectl") if "port-forward" in a]
    assert any("svc/istio-ingressgateway" in a for a in argv)
    assert any("svc/sklearn-iris-predictor-00001-private" in a for a in argv)
    assert any("pod/sklearn-iris-predictor-00001-deployment-" in a for a in argv)
