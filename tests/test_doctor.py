"""`kslab doctor NAME` walks API → stack → InferenceService → inference and names the first broken layer."""

from __future__ import annotations

import json

from kslab.config.model import Settings
from kslab.exitcodes import ExitCode
from tests.deploy_support import MISSING_URI, NAME, NS, kslab, lab_fixture  # noqa: F401
from tests.fakecluster.resources import ENDPOINTS
from tests.portforward_support import running_pod
from tests.state_support import cli_state_dir as _state


def doctor(lab, capsys):
    code, out, err = kslab(capsys, "-o", "json", "doctor", NAME)
    return code, json.loads(out) if out.strip() else [], err


def test_a_healthy_service_passes_every_layer_with_a_real_model_server(lab, fake_tools, capsys):
    from kslab.local.deploy import deploy_local, undeploy_local

    lab.seed(lean=False)
    assert kslab(capsys, "deploy", NAME)[0] == ExitCode.OK
    local = deploy_local(Settings(provider="local"), NAME, state=_state())
    try:
        gateway = running_pod(lab.cluster, "istio-system", "app=istio-ingressgateway")
        lab.cluster.node.register_proxy("istio-system", gateway, 80, local.url)
        code, layers, err = doctor(lab, capsys)
    finally:
        undeploy_local(Settings(provider="local"), NAME, state=_state())
    assert code == ExitCode.OK, err
    assert [(c["layer"], c["ok"]) for c in layers] == [("API server", True), ("stack", True),
                                                       ("InferenceService", True), ("inference request", True)]


def test_missing_service_names_the_fix(lab, capsys):
    lab.seed(lean=False)
    code, layers, err = doctor(lab, capsys)
    assert code == ExitCode.CHECK_FAILED
    assert layers[-1]["layer"] == "InferenceService" and layers[-1]["fix"] == f"kslab deploy {NAME}"
    assert f"hint: kslab deploy {NAME}" in err


def test_storage_initializer_crash_is_found_at_the_storage_layer(lab, capsys):
    lab.seed(lean=False)
    lab.knobs.failing_storage_uris.add(MISSING_URI)
    kslab(capsys, "deploy", NAME, "--storage-uri", MISSING_URI, "--timeout", "3")
    code, layers, _err = doctor(lab, capsys)
    assert code == ExitCode.CHECK_FAILED
    assert layers[-1]["layer"] == "storage / egress"
    assert any("RuntimeError: Failed to fetch model" in e for e in layers[-1]["evidence"])


def test_webhook_without_endpoints_stops_at_the_stack(lab, capsys):
    lab.seed(lean=False)

    def no_webhook_addresses(op, rt, obj, old):
        if rt is ENDPOINTS and obj["metadata"]["name"] == "kserve-webhook-server-service":
            obj.pop("subsets", None)
        return obj

    lab.store.admission.append(no_webhook_addresses)
    lab.store.mutate(ENDPOINTS, "kserve", "kserve-webhook-server-service", lambda o: o.pop("subsets", None))
    code, layers, _err = doctor(lab, capsys)
    assert code == ExitCode.CHECK_FAILED
    assert layers[-1]["layer"] == "stack: kserve"
    assert "Service kserve-webhook-server-service in kserve has ready endpoints" in layers[-1]["detail"]


def test_unreachable_api_is_the_first_layer(lab, capsys):
    lab.seed(lean=False)
    lab.cluster.stop()
    code, layers, _err = doctor(lab, capsys)
    assert code == ExitCode.CHECK_FAILED
    assert [c["layer"] for c in layers] == ["API server"]
    assert "cannot reach the Kubernetes API" in layers[0]["detail"]


def test_the_walk_fits_80_columns_with_detail_fix_and_evidence_under_it(lab, capsys, monkeypatch):
    """Issue 14: at 80 columns (a CI log) the layer table fits; the broken layer's long detail (a gs:// URL and a
    pod name no column can hold), its fix and its evidence are whole lines under the table, never folded."""
    monkeypatch.setenv("COLUMNS", "80")
    lab.seed(lean=False)
    lab.knobs.failing_storage_uris.add(MISSING_URI)
    kslab(capsys, "deploy", NAME, "--storage-uri", MISSING_URI, "--timeout", "3")
    code, out, _err = kslab(capsys, "doctor", NAME)
    assert code == ExitCode.CHECK_FAILED
    table, _, below = out.partition("\n\n")
    assert table.splitlines()[1].split() == ["LAYER", "RESULT", "DETAIL"], out
    assert max(len(line.rstrip()) for line in table.splitlines()) <= 80, out
    assert any(line.startswith("storage / egress ") and " FAIL " in line for line in table.splitlines())
    lines = below.splitlines()
    detail = next(line for line in lines if line.startswith("detail (storage / egress): stuck at storage"))
    assert MISSING_URI in detail, out
    assert any(line.startswith("fix (storage / egress): check the URI (--storage-uri)") for line in lines)
    evidence = lines.index("evidence (storage / egress):")
    assert any("RuntimeError: Failed to fetch model" in line for line in lines[evidence + 1:]), out
