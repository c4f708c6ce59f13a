"""The scenario engine with an in-memory action/observer registry: order, catch, finally, cleanup, Ctrl-C."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kslab.config.model import Settings
from kslab.errors import CheckFailed
from kslab.models.endpoint import Endpoint
from kslab.models.run_record import RunRecord
from kslab.scenarios import actions_data
from kslab.scenarios.actions import assert_, make_observe, mark, sleep
from kslab.scenarios.context import ScenarioContext, StepCall
from kslab.scenarios.engine import Hooks, run_scenario
from kslab.scenarios.validate import validate
from kslab.session import Session


class Recorder:
    """Fake actions: each call is logged; a step named in ``fail``/``interrupt`` raises."""

    def __init__(self, fail: str | None = None, interrupt: str | None = None) -> None:
        self.calls: list[str] = []
        self.fail, self.interrupt = fail, interrupt
        self.contexts: list[ScenarioContext] = []

    def action(self, ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
        self.calls.append(call.name)
        self.contexts.append(ctx)
        if call.name == self.interrupt:
            raise KeyboardInterrupt
        if call.name == self.fail:
            raise CheckFailed(f"{call.name} broke", "fix it")
        if call.action == "apply":
            ctx.add_cleanup(lambda: self.calls.append(f"cleanup {call.name}"), f"undo {call.name}")
        return {"value": call.value}

    def hooks(self, **observers: Any) -> Hooks:
        actions: dict[str, Any] = {name: self.action for name in ("apply", "patch", "delete", "wait", "collect",
                                                                   "probe", "traffic")}
        actions.update({"assert": assert_, "mark": mark, "sleep": sleep, "observe": make_observe(observers)})
        return Hooks(actions=actions, doctor=self.doctor)

    def doctor(self, session: Session, name: str) -> dict[str, Any]:
        self.calls.append(f"doctor {name}")
        return {"broken": {"layer": "InferenceService", "detail": "not Ready"}}


def scenario(steps: list[dict], **extra: Any) -> Any:
    return validate({"name": "t", "params": {"pct": 10, "gate": True}, "steps": steps, **extra}, "scenarios/t.yaml")


def run(tmp_path: Path, sc: Any, recorder: Recorder, settings: Settings | None = None,
        params: dict | None = None, **observers: Any) -> tuple[dict, RunRecord]:
    record = RunRecord(tmp_path / "reports", "scenario")
    events: list[tuple[str, str, str]] = []
    result = run_scenario(Session(settings or Settings(provider="existing"), record=record), sc,
                          params or dict(sc.params),
                          lambda *e: events.append(e), recorder.hooks(**observers))
    result["_progress"] = events
    return result, record


def on_disk(record: RunRecord) -> dict:
    return json.loads(record.path.read_text())


FINALLY = [{"name": "f1", "delete": {"resource": "isvc", "name": "a"}},
           {"name": "f2", "delete": {"resource": "isvc", "name": "b"}}]


def test_steps_run_in_order_with_templates_saves_and_assertions(tmp_path: Path) -> None:
    sc = scenario([
        {"name": "deploy", "apply": {"isvc": "{name}", "canary_percent": "{pct}"}, "save": "deployed"},
        {"name": "note", "mark": "deployed {name}"},
        {"name": "check", "assert": [{"value": "saved.deployed.value.canary_percent", "approx": "{pct}",
                                      "tolerance": 0.5}]},
    ])
    recorder = Recorder()
    result, record = run(tmp_path, sc, recorder)
    assert result["verdict"] == "passed" and result["reason"] is None
    assert recorder.calls == ["deploy", "cleanup deploy"]
    stored = on_disk(record)["scenarios"][0]
    assert [(s["name"], s["action"], s["phase"], s["result"]) for s in stored["steps"]] == [
        ("deploy", "apply", "main", "ok"), ("note", "mark", "main", "ok"), ("check", "assert", "main", "ok")]
    assert stored["steps"][0]["inputs"] == {"apply": {"isvc": "sklearn-iris", "canary_percent": 10}}
    assert stored["assertions"] == [{"name": "saved.deployed.value.canary_percent", "step": "check",
                                     "expected": 10.0, "observed": 10, "tolerance": 0.5, "ok": True,
                                     "message": "saved.deployed.value.canary_percent: expected 10 ± 0.5, observed 10"}]
    assert [e["label"] for e in stored["events"]] == ["deployed sklearn-iris"]
    assert stored["cleanups"] == [{"what": "undo deploy", "ok": True}]
    assert on_disk(record)["steps"][0]["name"] == "scenario:t" and on_disk(record)["steps"][0]["result"] == "ok"
    assert [e[:2] for e in result["_progress"] if e[0] == "t: deploy"] == [("t: deploy", "apply"), ("t: deploy", "ok")]
    assert result["_progress"][-1] == ("t", "ok", "passed")


def test_a_failed_step_runs_catch_doctor_finally_in_reverse_then_cleanups(tmp_path: Path) -> None:
    sc = scenario([{"name": "deploy", "apply": {"isvc": "x"}},
                   {"name": "promote", "patch": {"resource": "isvc", "name": "x", "merge": {}}},
                   {"name": "never", "wait": {"resource": "isvc", "name": "x", "absent": True}}],
                  catch=[{"name": "evidence", "collect": None}], **{"finally": FINALLY})
    recorder = Recorder(fail="promote")
    result, record = run(tmp_path, sc, recorder)
    assert recorder.calls == ["deploy", "promote", "evidence", "doctor sklearn-iris", "f2", "f1", "cleanup deploy"]
    assert result["verdict"] == "failed"
    assert result["reason"] == 'step 2 "promote": promote broke'
    assert result["diagnosis"] == {"isvc": "sklearn-iris", "broken": {"layer": "InferenceService",
                                                                      "detail": "not Ready"}}
    stored = on_disk(record)["scenarios"][0]
    assert [(s["name"], s["phase"], s["result"]) for s in stored["steps"]] == [
        ("deploy", "main", "ok"), ("promote", "main", "failed"), ("evidence", "catch", "ok"),
        ("f2", "finally", "ok"), ("f1", "finally", "ok")]
    assert stored["steps"][1]["error"] == "promote broke (hint: fix it)"
    assert on_disk(record)["steps"][0]["result"] == "failed"
    assert recorder.contexts[-1].stop.is_set()  # long actions still running would see the stop


class BrokenTimelines:
    def start(self, ctx: ScenarioContext) -> None:
        ctx.result["timelines"] = {"conditions": []}

    def stop(self) -> dict:
        raise RuntimeError("watch thread wedged")


def test_broken_evidence_never_skips_the_cleanup(tmp_path: Path) -> None:
    sc = scenario([{"name": "deploy", "apply": {"isvc": "x"}},
                   {"name": "promote", "patch": {"resource": "isvc", "name": "x", "merge": {}}}],
                  **{"finally": FINALLY})
    recorder = Recorder(fail="promote")
    hooks = recorder.hooks()

    def doctor(session: Session, name: str) -> dict:
        raise RuntimeError("doctor crashed")
    hooks.doctor, hooks.timelines = doctor, BrokenTimelines
    record = RunRecord(tmp_path / "reports", "scenario")
    result = run_scenario(Session(Settings(provider="existing"), record=record), sc, dict(sc.params), None, hooks)
    assert recorder.calls == ["deploy", "promote", "f2", "f1", "cleanup deploy"]
    assert result["diagnosis"] == {"error": "RuntimeError: doctor crashed"}
    assert result["cleanups"] == [{"what": "undo deploy", "ok": True},
                                  {"what": "timelines", "ok": False, "error": "RuntimeError: watch thread wedged"}]
    assert result["verdict"] == "failed" and result["reason"] == 'step 2 "promote": promote broke'


def test_a_failing_finally_step_fails_an_otherwise_passing_scenario(tmp_path: Path) -> None:
    sc = scenario([{"name": "deploy", "apply": {"isvc": "x"}}], **{"finally": FINALLY})
    recorder = Recorder(fail="f2")
    result, _ = run(tmp_path, sc, recorder)
    assert recorder.calls == ["deploy", "f2", "f1", "cleanup deploy"]
    assert (result["verdict"], result["reason"]) == ("failed", 'finally step 2 "f2": f2 broke')


def test_catch_does_not_run_when_everything_passes(tmp_path: Path) -> None:
    sc = scenario([{"name": "deploy", "apply": {"isvc": "x"}}], catch=[{"name": "evidence", "collect": None}],
                  **{"finally": FINALLY})
    recorder = Recorder()
    result, _ = run(tmp_path, sc, recorder)
    assert recorder.calls == ["deploy", "f2", "f1", "cleanup deploy"] and result["verdict"] == "passed"


def test_ctrl_c_mid_scenario_runs_finally_and_cleanup_then_reraises(tmp_path: Path) -> None:
    sc = scenario([{"name": "deploy", "apply": {"isvc": "x"}},
                   {"name": "load", "traffic": {"requests": 10}},
                   {"name": "never", "probe": None}], **{"finally": FINALLY})
    recorder = Recorder(interrupt="load")
    record = RunRecord(tmp_path / "reports", "scenario")
    with pytest.raises(KeyboardInterrupt):
        run_scenario(Session(Settings(provider="existing"), record=record), sc, dict(sc.params), None, recorder.hooks())
    assert recorder.calls == ["deploy", "load", "f2", "f1", "cleanup deploy"]
    stored = on_disk(record)
    entry = stored["scenarios"][0]
    assert entry["verdict"] == "interrupted" and entry["reason"] == "interrupted by the user (Ctrl-C)"
    assert entry["steps"][1]["error"] == "interrupted by the user"
    assert entry["steps"][1]["result"] == "interrupted"  # as the run record's own steps say it, never "failed"
    assert stored["steps"][0]["result"] == "interrupted"
    assert recorder.contexts[0].stop.is_set()


def test_a_second_ctrl_c_during_finally_still_runs_the_rest(tmp_path: Path) -> None:
    sc = scenario([{"name": "deploy", "apply": {"isvc": "x"}}], **{"finally": FINALLY})
    recorder = Recorder(interrupt="f2")
    record = RunRecord(tmp_path / "reports", "scenario")
    with pytest.raises(KeyboardInterrupt):
        run_scenario(Session(Settings(provider="existing"), record=record), sc, dict(sc.params), None, recorder.hooks())
    assert recorder.calls == ["deploy", "f2", "f1", "cleanup deploy"]
    assert on_disk(record)["scenarios"][0]["verdict"] == "interrupted"


def test_failed_assertions_give_expected_and_observed(tmp_path: Path) -> None:
    def split(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
        return {"revisions": {"r-00002": {"observed_percent": 40.2}}, "tolerance_points": 4.9,
                "within_tolerance": False, "options": options}
    sc = scenario([
        {"name": "split", "observe": "traffic-split", "with": {"requests": 400}, "save": "split", "timeout": "30s"},
        {"name": "check", "assert": [
            {"name": "canary", "value": "saved.split.revisions.r-00002.observed_percent", "approx": "{pct}",
             "tolerance": "{saved.split.tolerance_points}"},
            {"value": "saved.split.within_tolerance", "is_true": True},
            {"value": "saved.split.revisions.r-00002.observed_percent", "between": [0, 50]}]},
        {"name": "never", "probe": None}])
    recorder = Recorder()
    result, _ = run(tmp_path, sc, recorder, **{"traffic-split": split})
    assert result["verdict"] == "failed"
    assert result["reason"] == 'step 2 "check": canary: expected 10 ± 4.9, observed 40.2 (and 1 more failed check)'
    assert [(a["name"], a["ok"], a["expected"], a["observed"]) for a in result["assertions"]] == [
        ("canary", False, 10.0, 40.2), ("saved.split.within_tolerance", False, True, False),
        ("saved.split.revisions.r-00002.observed_percent", True, [0.0, 50.0], 40.2)]
    assert {tuple(a) for a in result["assertions"]} == {
        ("name", "step", "expected", "observed", "tolerance", "ok", "message")}  # the record's key order
    assert result["steps"][0]["inputs"]["observe"] == "traffic-split"  # the report reads the observer kind here
    observed = result["steps"][0]["observations"]
    assert observed["options"] == {"requests": 400, "timeout": 30.0}  # the step timeout reaches the observer
    assert "never" not in recorder.calls


@pytest.mark.parametrize(("settings", "requires", "reason"), [
    (Settings(provider="local"), {"cluster": True}, "skipped: needs a cluster provider (provider local has no "
                                                    "Kubernetes)"),
    (Settings(provider="existing", mode="standard"), {"mode": "knative", "because": "canaryTrafficPercent"},
     "unsupported: needs mode knative, this lab runs mode standard (canaryTrafficPercent)"),
    (Settings(provider="existing", kserve_version="0.19.0"), {"kserve": ">=0.20"},
     "unsupported: needs KServe >=0.20, this lab runs 0.19.0"),
])
def test_unmet_requirements_skip_with_the_reason(tmp_path: Path, settings: Settings, requires: dict,
                                                 reason: str) -> None:
    sc = scenario([{"name": "deploy", "apply": {"isvc": "x"}}], requires=requires)
    recorder = Recorder()
    result, record = run(tmp_path, sc, recorder, settings)
    assert (result["verdict"], result["reason"]) == ("skipped", reason)
    assert recorder.calls == []
    assert on_disk(record)["steps"][0]["result"] == "skipped"


def test_when_false_skips_and_continue_on_failure_goes_on_but_fails(tmp_path: Path) -> None:
    sc = scenario([{"name": "gated", "apply": {"isvc": "x"}, "when": "{gate}"},
                   {"name": "flaky", "patch": {"resource": "isvc", "name": "x", "merge": {}},
                    "continue_on_failure": True},
                   {"name": "after", "probe": None}])
    recorder = Recorder(fail="flaky")
    result, _ = run(tmp_path, sc, recorder, params={**sc.params, "gate": False})
    assert recorder.calls == ["flaky", "after", "doctor sklearn-iris"]
    assert [s["result"] for s in result["steps"]] == ["skipped", "failed", "ok"]
    assert result["verdict"] == "failed" and result["reason"].startswith('step 2 "flaky"')


def test_a_reference_that_leads_nowhere_at_run_time_is_an_error(tmp_path: Path) -> None:
    sc = scenario([{"name": "observe", "apply": {"isvc": "x"}, "save": "obs"},
                   {"name": "use", "probe": {"host": "{saved.obs.value.nothing}"}}])
    result, _ = run(tmp_path, sc, Recorder())
    assert result["verdict"] == "error"
    assert result["reason"].startswith('step 2 "use": template: saved.obs.value has no \'nothing\'')


# -- background traffic: a real load run in a thread, stopped by Ctrl-C ------------------------------------
class _Predict(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"predictions": [1, 1]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def model_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Predict)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    opened = {"open": 0, "closed": 0}

    @contextmanager
    def endpoint(provider: Any, name: str, **_: Any) -> Iterator[Endpoint]:
        opened["open"] += 1
        try:
            yield Endpoint(f"http://127.0.0.1:{server.server_address[1]}", name, via="direct")
        finally:
            opened["closed"] += 1

    monkeypatch.setattr("kslab.providers.cluster.ClusterProvider.endpoint", endpoint)
    yield opened
    server.shutdown()
    server.server_close()


def test_background_traffic_is_joined_and_recorded(tmp_path: Path, model_server: dict[str, int]) -> None:
    sc = scenario([{"name": "load", "traffic": {"duration": "0.5s", "concurrency": 2, "background": True}},
                   {"name": "meanwhile", "mark": "during load"},
                   {"name": "join", "wait_traffic": "load", "save": "load"},
                   {"name": "check", "assert": [{"value": "saved.load.ok", "at_least": 1}]}])
    recorder = Recorder()
    hooks = recorder.hooks()
    hooks.actions = {**hooks.actions, "traffic": actions_data.traffic, "wait_traffic": actions_data.wait_traffic}
    hooks.join_background = actions_data.join_all
    record = RunRecord(tmp_path / "reports", "scenario")
    result = run_scenario(Session(Settings(provider="existing"), record=record), sc, dict(sc.params), None, hooks)
    assert result["verdict"] == "passed", result["reason"]
    [load] = result["load"]
    assert load["step"] == "load" and load["ok"] >= 1 and load["t_end_s"] >= load["t_start_s"]
    assert [e["label"] for e in result["events"]] == ["traffic load start", "during load", "traffic load end"]
    assert model_server == {"open": 1, "closed": 1}


def test_ctrl_c_stops_background_traffic_and_closes_its_endpoint(tmp_path: Path,
                                                                  model_server: dict[str, int]) -> None:
    sc = scenario([{"name": "load", "traffic": {"duration": "60s", "concurrency": 2, "background": True}},
                   {"name": "boom", "probe": None}])
    recorder = Recorder(interrupt="boom")
    hooks = recorder.hooks()
    hooks.actions = {**hooks.actions, "traffic": actions_data.traffic}
    hooks.join_background = actions_data.join_all
    record = RunRecord(tmp_path / "reports", "scenario")
    threads_before = {t.name for t in threading.enumerate()}
    with pytest.raises(KeyboardInterrupt):
        run_scenario(Session(Settings(provider="existing"), record=record), sc, dict(sc.params), None, hooks)
    assert model_server == {"open": 1, "closed": 1}
    assert not [t for t in threading.enumerate() if t.name.startswith("kslab-scenario-traffic")
                and t.name not in threads_before]
    assert on_disk(record)["scenarios"][0]["verdict"] == "interrupted"


# -- apply: what reaches the API server ------------------------------------------------------------------
class FakeKube:
    def __init__(self) -> None:
        self.applied: list[tuple[str, dict, str | None]] = []

    def find(self, ref: Any, name: str, namespace: str | None = None) -> dict:
        """Everything exists already, made by kslab (so apply may update it; ownership is tested elsewhere)."""
        return {"metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "kslab"}}}

    def apply(self, ref: Any, body: dict, namespace: str | None = None) -> dict:
        self.applied.append((ref.plural, body, namespace))
        return {"metadata": {**body["metadata"], "generation": 1}}


def kube_context(tmp_path: Path, settings: Settings | None = None) -> tuple[ScenarioContext, FakeKube]:
    kube = FakeKube()
    settings = settings or Settings(provider="existing")
    session = Session(settings, record=RunRecord(tmp_path / "reports", "scenario"))
    session.provider._kube = kube  # type: ignore[attr-defined]  # the provider's one client, faked
    ctx = ScenarioContext(session=session, namespace=settings.namespace, isvc="sklearn-iris", params={}, result={})
    return ctx, kube


def test_apply_renders_the_lab_isvc_with_variants(tmp_path: Path) -> None:
    from kslab.scenarios.actions_kube import apply

    ctx, kube = kube_context(tmp_path)
    value = {"isvc": "sklearn-iris", "model_version": "v2", "mode": "knative", "canary_percent": 10,
             "annotations": {"serving.kserve.io/enable-tag-routing": True}}
    out = apply(ctx, StepCall("canary", "apply", value, {}, None))
    [(plural, body, namespace)] = kube.applied
    assert (plural, namespace) == ("inferenceservices", "kserve-test")
    assert body["spec"]["predictor"]["canaryTrafficPercent"] == 10
    assert body["spec"]["predictor"]["model"]["storageUri"] == "gs://kfserving-examples/models/sklearn/1.0/model-2"
    assert body["metadata"]["annotations"] == {"serving.kserve.io/deploymentMode": "Knative",
                                               "serving.kserve.io/enable-tag-routing": "true"}
    assert body["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kslab"
    assert out["applied"] == [{"kind": "InferenceService", "name": "sklearn-iris", "namespace": "kserve-test",
                               "generation": 1}]


def test_apply_inline_manifests_are_labelled_and_files_stay_under_manifests(tmp_path: Path) -> None:
    from kslab.errors import UsageError
    from kslab.scenarios.actions_kube import apply

    ctx, kube = kube_context(tmp_path)
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "marker"}, "data": {"a": "1"}}
    apply(ctx, StepCall("cm", "apply", {"manifest": config}, {}, None))
    [(plural, body, namespace)] = kube.applied
    assert (plural, namespace, body["metadata"]["namespace"]) == ("configmaps", "kserve-test", "kserve-test")
    assert body["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "kslab"}
    for outside in ("../pyproject.toml", "/etc/passwd", "isvc/missing.yaml"):
        with pytest.raises(UsageError, match="is not a file under manifests/"):
            apply(ctx, StepCall("bad", "apply", {"file": outside}, {}, None))


def test_the_diagnosis_walks_each_applied_isvc_and_names_the_broken_one(tmp_path: Path) -> None:
    """A scenario that applies InferenceServices not named by its ``name`` parameter (mode-compare's
    <name>-serverless and <name>-raw) is diagnosed on what it applied, not on a name it never made."""
    sc = scenario([{"name": "deploy", "apply": {"isvc": "x"}},
                   {"name": "promote", "patch": {"resource": "isvc", "name": "x", "merge": {}}}])
    recorder = Recorder(fail="promote")
    walked: list[str] = []

    def apply_two(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
        return {"applied": [{"kind": "InferenceService", "name": "m-serverless"}, {"kind": "ConfigMap", "name": "c"},
                            {"kind": "InferenceService", "name": "m-raw"}]}

    def doctor(session: Session, name: str) -> dict[str, Any]:
        walked.append(name)
        return {"broken": {"layer": "Predictor pods", "detail": "stuck"} if name == "m-raw" else None}

    hooks = recorder.hooks()
    hooks.actions = {**hooks.actions, "apply": apply_two}
    hooks.doctor = doctor
    record = RunRecord(tmp_path / "reports", "scenario")
    result = run_scenario(Session(Settings(provider="existing"), record=record), sc, dict(sc.params), None, hooks)
    assert walked == ["m-serverless", "m-raw"]
    assert result["diagnosis"] == {"isvc": "m-raw", "broken": {"layer": "Predictor pods", "detail": "stuck"}}
