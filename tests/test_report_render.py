"""kslab report on real records: the Table-1 summary, JUnit counts, the HTML page's plots, incomplete runs."""

from __future__ import annotations

import base64
import copy
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from junitparser import JUnitXml
from PIL import Image

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.report_support import load_of, read, real_lab_run, with_scenarios, write_run

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    """The real lab record plus the contract's scenarios, rendered once by `kslab report RUN`."""
    cwd = tmp_path_factory.mktemp("report-render")
    record = with_scenarios(read(real_lab_run(tmp_path_factory)))
    run_dir = write_run(cwd / "reports", record)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        patch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        assert run(["report", record["run_id"]]) == ExitCode.OK
    return {"record": record, "dir": run_dir, "md": (run_dir / "report.md").read_text(),
            "junit": (run_dir / "junit.xml").read_text(), "html": (run_dir / "report.html").read_text()}


def _row(markdown: str, metric: str) -> list[str]:
    line = next(line for line in markdown.splitlines() if line.startswith(f"| {metric} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def _number(text: str) -> float:
    return float(re.match(r"[\d.]+", text).group())


def test_markdown_has_the_table_1_summary_with_the_runs_numbers(rendered):
    load = load_of(rendered["record"])
    markdown = rendered["md"]
    assert _number(_row(markdown, "Average latency")[1]) == pytest.approx(load["latency"]["mean_ms"], rel=1e-5)
    assert _number(_row(markdown, "Maximum latency")[1]) == pytest.approx(load["latency"]["max_ms"], rel=1e-5)
    throughput = _row(markdown, "Throughput")[1]
    assert throughput.endswith("requests/second")
    assert _number(throughput) == pytest.approx(load["throughput_rps"], rel=1e-5)
    scalability = _row(markdown, "Scalability")[1]
    peak = max(s["throughput_rps"] for s in load["steps"])
    assert "levels 1, 4" in scalability and f"peak {peak:g} req/s" in scalability
    smoke = [s for s in rendered["record"]["steps"] if s["name"].startswith("smoke: ")]
    assert _row(markdown, "Prediction checks")[1] == f"{len(smoke)}/{len(smoke)} passed"
    assert _row(markdown, "Scenarios")[1] == "1 passed, 1 failed, 1 skipped, 1 error"
    assert "INCOMPLETE" not in markdown
    assert "| ❌ | scaled out | >= 3 replicas | 1 |" in markdown  # the failed assertion, expected vs observed


def test_junit_counts_match_the_records_checks_and_assertions(rendered):
    record = rendered["record"]
    root = ET.fromstring(rendered["junit"])
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    counts = {name: tuple(int(s.get(k)) for k in ("tests", "failures", "errors", "skipped"))
              for name, s in suites.items()}
    smoke = [s for s in record["steps"] if s["name"].startswith("smoke: ")]
    others = [s for s in record["steps"] if not s["name"].startswith("smoke: ")]
    assert counts["scenario canary"] == (2, 0, 0, 0)
    assert suites["scenario canary"].get("time") == "40.000"  # the scenario's duration
    assert counts["scenario autoscale"] == (2, 1, 0, 0)
    assert counts["scenario raw-mode"] == (1, 0, 0, 1)
    assert counts["scenario cold-start"] == (1, 0, 1, 0)
    assert counts["smoke"] == (len(smoke), 0, 0, 0)
    assert counts["kslab lab"] == (len(others), 0, 0, sum(s["result"] == "skipped" for s in others))
    totals = tuple(int(root.get(k)) for k in ("tests", "failures", "errors", "skipped"))
    assert totals == tuple(sum(c[i] for c in counts.values()) for i in range(4))
    for suite in root.findall("testsuite"):  # every count attribute agrees with the testcases under it
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        for kind, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert int(suite.get(attribute)) == sum(c.find(kind) is not None for c in cases)
    failure = root.find(".//testsuite[@name='scenario autoscale']/testcase[@name='scaled out']/failure")
    assert failure.get("message") == "only 1 replica ready\\x07 after 30 s"  # control character escaped
    assert "expected: >= 3 replicas" in failure.text
    diagnosis = root.find(".//testsuite[@name='scenario autoscale']/testcase[@name='scaled out']/system-out")
    assert "Insufficient cpu" in diagnosis.text


def test_junit_reads_with_junitparser_like_the_ci_reporters(rendered, tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(rendered["junit"])
    xml = JUnitXml.fromfile(str(path))
    cases = [case for suite in xml for case in suite]
    assert len(cases) == int(ET.fromstring(rendered["junit"]).get("tests"))
    skipped = [c for c in cases if c.is_skipped]
    assert {c.name for c in skipped} >= {"raw-mode", "scenarios"}
    failed = [c for c in cases if not c.is_passed and not c.is_skipped]
    assert {c.name for c in failed} == {"scaled out", "cold-start verdict"}


def test_a_failed_smoke_check_is_a_junit_failure_with_expected_and_actual(tmp_path_factory, tmp_path, monkeypatch):
    record = copy.deepcopy(read(real_lab_run(tmp_path_factory)))
    step = next(s for s in record["steps"] if s["name"] == "smoke: v1 predict sample 2")
    step["result"], step["observations"]["ok"], step["observations"]["actual"] = "failed", False, [2]
    record["result"] = "failed"
    run_dir = write_run(tmp_path / "reports", record)
    monkeypatch.chdir(tmp_path)
    assert run(["report", "--format", "junit,md"]) == ExitCode.OK
    assert not (run_dir / "report.html").exists()
    root = ET.fromstring((run_dir / "junit.xml").read_text())
    smoke = root.find("testsuite[@name='smoke']")
    assert smoke.get("failures") == "1"
    failure = smoke.find("testcase[@name='v1 predict sample 2']/failure")
    assert failure.get("message") == "expected [0], got [2]"
    assert "| ❌ | v1 predict sample 2 | [0] | [2] |" in (run_dir / "report.md").read_text()


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_html_embeds_every_plot_as_a_valid_png_and_links_nothing_outside(rendered):
    html = rendered["html"]
    images = _images(html)
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", html)
    # load (both profile runs: the lab's and the canary's): throughput and latency per level, the latency
    # distribution per level, second by second; the canary's traffic over time and split; replicas for canary and
    # autoscale; step durations
    assert len(images) == len(captions) == 11, captions
    assert sum(c.startswith("Latency distribution per level") for c in captions) == 2
    assert {"Canary split — canary", "Traffic split over time — canary", "Replicas over time — autoscale",
            "Step durations"} <= set(captions)
    for png in images:
        assert png.startswith(PNG)
        with Image.open(io.BytesIO(png)) as image:
            image.verify()
            assert image.size[0] >= 900
    attributes = re.findall(r'(?:src|href|action)\s*=\s*"([^"]*)"', html)
    assert attributes and all(a.startswith("data:") for a in attributes), attributes
    assert "<script" not in html and "<link" not in html and "url(" not in html and "@import" not in html
    assert "<td>Ready=False</td><td>RevisionMissing</td>" in html  # the canary's conditions timeline
    assert "<td>event 1</td><td>canary 20 % applied</td>" in html


def test_html_escapes_what_the_record_says(tmp_path_factory, tmp_path, monkeypatch):
    record = with_scenarios(read(real_lab_run(tmp_path_factory)))
    record["scenarios"][1]["reason"] = "<script>alert('x')</script> & more"
    run_dir = write_run(tmp_path / "reports", record)
    monkeypatch.chdir(tmp_path)
    assert run(["report", "--format", "html"]) == ExitCode.OK
    html = (run_dir / "report.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in html


def test_an_incomplete_run_renders_with_a_banner_and_valid_outputs(tmp_path_factory, tmp_path, monkeypatch,
                                                                   capsys):
    record = copy.deepcopy(read(real_lab_run(tmp_path_factory)))
    record["result"], record["finished_at"] = "running", None  # killed while the load step ran
    load = next(s for s in record["steps"] if s["name"] == "load")
    load.update(result="running", finished_at=None, duration_s=None, observations={})
    run_dir = write_run(tmp_path / "reports", record)
    monkeypatch.chdir(tmp_path)
    assert run(["report"]) == ExitCode.OK
    printed = capsys.readouterr().out.split()
    assert printed[1] == str(Path("reports") / record["run_id"] / "report.md")
    assert "**INCOMPLETE RUN**" in (run_dir / "report.md").read_text()
    html = (run_dir / "report.html").read_text()
    assert '<div class="banner">INCOMPLETE RUN' in html
    assert _images(html)  # what the run recorded before it was killed is still plotted
    root = ET.fromstring((run_dir / "junit.xml").read_text())
    errors = {c.get("name"): c.find("error").get("message") for c in root.iter("testcase")
              if c.find("error") is not None}
    assert set(errors) == {"load", "run completed"}
    assert "never finished" in errors["load"] and "INCOMPLETE" in errors["run completed"]
    assert root.get("errors") == "2"


def created(run_id: str, **rest: object) -> dict:
    """What kslab/models/run_record.py writes the moment a run starts (the run schema's required keys): a run
    killed at any later point has at least this; everything else may be missing."""
    return {"schema": "kslab.run/v1", "run_id": run_id, "command": run_id.split("-")[1],
            "tool": {"kslab": "0.1.0", "python": "3.11.7"}, "started_at": "2026-11-24T01:00:00.000000Z",
            "finished_at": None, "result": "running", "settings": {}, "steps": [], "environment": {}, **rest}


@pytest.mark.parametrize("record", [
    created("20261124T010000Z-up-0001"),
    created("20261124T010000Z-up-0002", result="ok", steps=[{"name": "cluster"}], scenarios=[{"name": "canary"}]),
    created("20261124T010000Z-load-0003", result="failed", finished_at="2026-11-24T01:00:09.000000Z",
            steps=[{"name": "load", "result": "ok", "observations": {"latency": {}, "throughput_rps": None,
                                                                     "steps": [{"level": 2}], "series": [{"t": 0}]}}]),
])
def test_records_missing_keys_still_render(tmp_path, monkeypatch, record):
    run_dir = write_run(tmp_path / "reports", record)
    monkeypatch.chdir(tmp_path)
    assert run(["report", record["run_id"]]) == ExitCode.OK
    ET.fromstring((run_dir / "junit.xml").read_text())
    finished = record.get("finished_at") is not None  # the first two have no finish time: killed runs
    assert ("INCOMPLETE RUN" in (run_dir / "report.md").read_text()) is not finished
    assert (run_dir / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_a_histogram_that_does_not_decode_costs_its_plot_not_the_report(tmp_path_factory, tmp_path, monkeypatch):
    record = copy.deepcopy(read(real_lab_run(tmp_path_factory)))
    load = load_of(record)
    load["mode"], load["steps"] = "constant", [load["steps"][0]]  # one level: its histogram is drawn
    load["histogram"] = "not-an-hdr-histogram"  # a string, as the schema says, but not HDR
    run_dir = write_run(tmp_path / "reports", record)
    monkeypatch.chdir(tmp_path)
    assert run(["report", "--format", "html"]) == ExitCode.OK
    html = (run_dir / "report.html").read_text()
    assert '<p class="note">Latency histogram — load: not drawn (ValueError: the histogram does not decode' in html
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", html)
    assert captions == ["Percentiles over time — load", "Step durations"]
    assert len(_images(html)) == 2


@pytest.mark.parametrize(("where", "value", "field"), [
    (("observations", "series", 0, "requests"), "many", "observations.series[0].requests: expected an integer"),
    (("observations", "latency"), [1, 2], "observations.latency: expected an object"),
    (("duration_s",), "slow", "duration_s: expected a number or null"),
])
def test_an_ill_typed_field_is_one_line_naming_the_run_and_the_field(tmp_path_factory, tmp_path, monkeypatch, capsys,
                                                                     where, value, field):
    record = copy.deepcopy(read(real_lab_run(tmp_path_factory)))
    index = next(i for i, s in enumerate(record["steps"]) if s["name"] == "load")
    target = record["steps"][index]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    run_dir = write_run(tmp_path / "reports", record)
    monkeypatch.chdir(tmp_path)
    assert run(["report"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(f"error: reports/{record['run_id']}/run.json is not a valid run record: "
                                          f"steps[{index}].{field}"), err
    assert "Traceback" not in err and not (run_dir / "report.md").exists()


def test_an_entry_that_is_not_an_object_is_one_line(tmp_path, monkeypatch, capsys):
    record = created("20261124T010000Z-up-0004", result="ok", scenarios=[{"name": "canary"}, "not a scenario"])
    write_run(tmp_path / "reports", record)
    monkeypatch.chdir(tmp_path)
    assert run(["report", record["run_id"], "--format", "junit"]) == ExitCode.USAGE
    assert capsys.readouterr().err.splitlines()[0] == \
        ("error: reports/20261124T010000Z-up-0004/run.json is not a valid run record: scenarios[1]: expected an "
         "object, got str 'not a scenario'")
