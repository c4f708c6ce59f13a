"""The users' CI workflow (.github/workflows/kslab-e2e.yml): valid against GitHub's workflow schema, and wired
to what kslab writes (it cannot run here: it needs Docker)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kslab.report.render import FORMATS

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "kslab-e2e.yml"
MAJORS = {"actions/checkout": "v4", "actions/setup-python": "v5", "actions/upload-artifact": "v4",
          "helm/kind-action": "v1", "azure/setup-helm": "v4", "mikepenz/action-junit-report": "v4"}


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with its vendored copy of the GitHub workflow schema (no network)."""
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, timeout=60)


def _steps() -> list[dict]:
    document = yaml.safe_load(WORKFLOW.read_text())
    [job] = document["jobs"].values()
    return job["steps"]


def test_the_workflow_validates_against_the_github_workflow_schema():
    result = _check(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("breakage", [("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"),
                                      ("timeout-minutes: 60", "timeout-minutes: soon"),
                                      ("if: always()\n        uses: actions/upload", "if: always()\n        use: x")])
def test_the_schema_check_catches_a_broken_workflow(tmp_path, breakage):
    broken = WORKFLOW.read_text().replace(*breakage, 1)
    assert broken != WORKFLOW.read_text()
    path = tmp_path / "broken.yml"
    path.write_text(broken)
    assert _check(path).returncode != 0


def test_actions_are_pinned_to_existing_major_versions():
    used = [step["uses"] for step in _steps() if "uses" in step]
    assert {u.split("@")[0]: u.split("@")[1] for u in used} == MAJORS


def test_it_runs_the_lab_in_ci_mode_and_keeps_the_reports():
    steps = _steps()
    runs = [step.get("run", "") for step in steps]
    assert any(r.startswith("kslab lab --ci") for r in runs)
    kind = next(s for s in steps if s.get("uses", "").startswith("helm/kind-action"))
    assert kind["with"]["install_only"] is True  # kslab creates (and with --down deletes) the cluster itself
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    junit = next(s for s in steps if s.get("uses", "").startswith("mikepenz/action-junit-report"))
    assert upload["if"] == junit["if"] == "always()"  # a failed lab still uploads and publishes its report
    assert upload["with"]["path"] == "reports/"
    assert junit["with"]["report_paths"] == f"reports/*/{FORMATS['junit']}"
