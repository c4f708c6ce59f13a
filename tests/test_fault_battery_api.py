"""Fault battery, API and port-forward part (issue 13, items 3 and 4): kslab commands run in-process against the
fake cluster while it misbehaves. Every case asserts a valid run.json, a meaningful exit code, no traceback text in
what the user sees or in the record, and no kubectl port-forward left running."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest

from kslab.exitcodes import ExitCode
from tests.deploy_support import NAME, NS, kslab, lab_fixture  # noqa: F401  (fixture)
from tests.fakecluster.resources import SERVICES
from tests.leak_guard import leftover_pids
from tests.portforward_support import backend, knative_lab

TRACEBACK_TEXT = ("Traceback", "Original traceback")


def _checked_record(lab, *outputs: str) -> dict:
    """The newest run.json, parsed; neither it nor the command's output carries traceback text."""
    text = sorted((lab.tmp_path / "reports").glob("*/run.json"))[-1].read_text()
    record = json.loads(text)
    for shown in (*outputs, text):
        assert not any(t in shown for t in TRACEBACK_TEXT), shown[-2000:]
    assert record["result"] in ("ok", "failed", "interrupted")
    return record


def _no_forward_left(tmp_path: Path) -> None:
    assert leftover_pids(str(tmp_path), watched=("port-forward",)) == []


@pytest.mark.parametrize("status, rate, seed", [(500, 0.2, 13), (429, 0.15, 7), (503, 0.1, 3)])
def test_deploy_rides_out_random_api_errors_on_every_path(lab, capsys, status, rate, seed):
    lab.seed()
    rule = lab.cluster.faults.fail_rate(r"^/(api|apis|version)\b", rate, status=status, seed=seed, retry_after=0)
    code, out, err = kslab(capsys, "-o", "json", "deploy", NAME)
    record = _checked_record(lab, out, err)
    assert code == ExitCode.OK, err
    assert record["result"] == "ok" and json.loads(out)["ready"] is True
    # a deploy makes ~15-25 API calls (fewer once discovery is cached): at 10-20 % some must have failed
    assert rule.failed >= 1 and rule.matched >= 10, f"the faults should have hit: {rule.failed} of {rule.matched}"


@pytest.mark.parametrize("abrupt", [True, False])
def test_deploy_survives_its_watch_cut_mid_stream(lab, capsys, abrupt):
    lab.seed()
    rule = lab.cluster.faults.drop_watch(r"/inferenceservices$", 1, abrupt=abrupt)
    code, out, err = kslab(capsys, "-o", "json", "deploy", NAME)
    record = _checked_record(lab, out, err)
    assert code == ExitCode.OK, err
    assert record["result"] == "ok"
    assert rule.matched >= 1


def test_the_api_server_gone_mid_wait_is_exit_3(lab, capsys):
    lab.seed()
    lab.cluster.controllers.stop()  # nothing makes the InferenceService Ready: the deploy waits on its watch

    def vanish() -> None:
        lab.cluster.server.wait_for_watch("inferenceservices", timeout=30)
        lab.cluster.stop()
    thread = threading.Thread(target=vanish, daemon=True)
    thread.start()
    code, out, err = kslab(capsys, "deploy", NAME, "--timeout", "60")
    thread.join(5)
    record = _checked_record(lab, out, err)
    assert code == ExitCode.ENVIRONMENT, err
    assert record["result"] == "failed"
    assert "cannot reach the Kubernetes API" in err or "stopped answering" in err, err


def test_smoke_rides_out_random_api_errors(lab, capsys, fake_tools):
    gateway = knative_lab(lab.cluster)
    with backend() as pod:
        lab.cluster.node.register_proxy("istio-system", gateway, 80, pod.url)
        # kslab's own API calls (the group APIs: InferenceService, Knative); kubectl's port-forward reads stay clean
        rule = lab.cluster.faults.fail_rate(r"^/apis\b", 0.2, status=500, seed=2)
        code, out, err = kslab(capsys, "-n", NS, "smoke", NAME)
    record = _checked_record(lab, out, err)
    assert rule.failed >= 1
    # the stand-in pod echoes requests instead of predicting: the checks fail on their answers, not on the API
    assert code == ExitCode.CHECK_FAILED and record["result"] == "failed"
    assert "unexpected" not in err
    _no_forward_left(lab.tmp_path)


def test_a_port_forward_that_keeps_dying_fails_the_load_and_says_so(lab, capsys, fake_tools):
    gateway = knative_lab(lab.cluster)
    stop = threading.Event()

    def keep_killing() -> None:
        """Kill every kubectl port-forward the moment it appears; after the first kill the gateway Service is gone,
        so kubectl's restarts fail and the watchdog gives up."""
        killed = 0
        while not stop.wait(0.05) and not leftover_pids(str(lab.tmp_path), watched=("port-forward",)):
            pass
        stop.wait(1.5)  # the forward is up and the load under way
        while not stop.wait(0.05):
            for pid in leftover_pids(str(lab.tmp_path), watched=("port-forward",)):
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    continue
                if killed == 1:
                    lab.cluster.store.delete(SERVICES, "istio-system", "istio-ingressgateway")
    with backend() as pod:
        lab.cluster.node.register_proxy("istio-system", gateway, 80, pod.url)
        killer = threading.Thread(target=keep_killing, daemon=True)
        killer.start()
        try:
            code, out, err = kslab(capsys, "-n", NS, "load", NAME, "--duration", "9s", "-c", "2")
        finally:
            stop.set()
            killer.join(5)
    record = _checked_record(lab, out, err)
    assert code == ExitCode.CHECK_FAILED, err
    assert "gave up after 5 restarts" in err, err
    _no_forward_left(lab.tmp_path)
    # the endpoint lives inside the record's load step: the record ends failed, the step says why
    assert record["result"] == "failed"
    step = record["steps"][-1]
    assert step["name"] == "load" and step["result"] == "failed" and "gave up after 5 restarts" in step["error"]


def test_a_port_forward_that_never_comes_up_fails_the_load_record_with_its_reason(lab, capsys, fake_tools):
    knative_lab(lab.cluster)
    lab.cluster.store.delete(SERVICES, "istio-system", "istio-ingressgateway")  # nothing to forward to
    code, out, err = kslab(capsys, "-n", NS, "load", NAME, "--duration", "2s", "-c", "2")
    record = _checked_record(lab, out, err)
    assert code != ExitCode.OK, err
    assert record["result"] == "failed"
    step = record["steps"][-1]
    assert step["name"] == "load" and step["result"] == "failed" and step["error"], step
    assert step["error"].splitlines()[0] in err, (step["error"], err)
    _no_forward_left(lab.tmp_path)
