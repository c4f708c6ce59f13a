"""The latency-layers observer names each added part by what it measures.

The ``<revision>-private`` Service selects the revision's pods, so it reaches queue-proxy directly
(knative/serving@knative-v1.21.1 pkg/reconciler/serverlessservice/resources/services.go); the activator is only
behind the public Service while the ServerlessService is in proxy mode, which the gateway path takes. So the
service-to-pod difference is queue-proxy (Knative) or the predictor Service alone (Standard), never the activator.
"""

from __future__ import annotations

from kslab.scenarios.observers.latency import added_parts

LAYERS = {"gateway_ms": 5.0, "service_ms": 3.5, "pod_ms": 2.25, "server_predict_ms": 0.5}


def test_knative_parts_are_gateway_queue_proxy_and_runtime():
    assert added_parts(LAYERS, knative=True) == {"gateway": 1.5, "queue_proxy": 1.25, "runtime": 1.75}


def test_standard_parts_name_the_service_hop():
    assert added_parts(LAYERS, knative=False) == {"gateway": 1.5, "service": 1.25, "runtime": 1.75}


def test_a_missing_layer_leaves_its_parts_empty():
    parts = added_parts({**LAYERS, "gateway_ms": None}, knative=False)
    assert parts == {"gateway": None, "service": 1.25, "runtime": 1.75}
    assert not any("activator" in name for name in added_parts(LAYERS, knative=True))
