"""A failed deploy's run record carries kslab doctor's diagnosis; the report shows the layer and the fix."""

from __future__ import annotations

from kslab.exitcodes import ExitCode
from tests.deploy_support import MISSING_URI, NAME, kslab, lab_fixture  # noqa: F401  (fixture registration)


def test_a_failed_deploy_reports_the_stuck_layer_and_the_fix(lab, capsys):
    lab.knobs.failing_storage_uris = {MISSING_URI}
    lab.seed()
    code, _, err = kslab(capsys, "deploy", NAME, "--storage-uri", MISSING_URI, "--timeout", "20")
    assert code == ExitCode.CHECK_FAILED, err
    [run_dir] = [p.parent for p in lab.records()]
    assert kslab(capsys, "report", str(run_dir))[0] == ExitCode.OK
    diagnosis = lab.record()["diagnosis"]
    markdown = (run_dir / "report.md").read_text()
    assert "## Diagnosis" in markdown and f"Stuck at **{diagnosis['layer']}**" in markdown
    assert diagnosis["layer"] == "storage / egress" and "--storage-uri" in markdown
    html = (run_dir / "report.html").read_text()
    assert "<h2>Diagnosis</h2>" in html and "storage / egress" in html
