"""The report and the comparison page in a real browser (headless Chromium): every chart decodes, none is
small or blurred, and nothing overflows the window, on a desktop (1400 px) and a narrow (800 px) window."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.browser_support import chromium, rendered
from tests.report_support import run_id, write_run
from tests.test_report_dashboard import DATA, recorded, with_cold_start

SHARP_PX = 900  # a chart's own width: at least this, so it is not blown up blurred at the page's width
WIDTHS = {1400: 600, 800: 600}  # window width: the least a chart may be shown at (px)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """The lab report with every scenario chart, the comparison page of two identical lab runs, and the reports of
    a mode-compare run and a rolled-back canary analysis (recorded in tests/report_data from the scenario tests)."""
    chromium()  # skip (fail on CI) before rendering when there is no browser
    cwd = tmp_path_factory.mktemp("report-browser")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        patch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        record = with_cold_start(recorded(1))
        report_dir = write_run(cwd / "reports", record)
        assert run(["report", record["run_id"], "--format", "html"]) == ExitCode.OK
        base, current = run_id(0, "lab", "ba5e"), run_id(90, "lab", "c0de")
        write_run(cwd / "reports", recorded(2), base)
        compare_dir = write_run(cwd / "reports", recorded(1), current)
        assert run(["report", current, "--compare", base]) == ExitCode.OK
        scenario_dirs = {}
        for name in ("mode-compare", "canary-rollback"):
            scenario = json.loads((DATA / f"{name}.json").read_text())
            scenario_dirs[name] = write_run(cwd / "reports", scenario)
            assert run(["report", scenario["run_id"], "--format", "html"]) == ExitCode.OK
    return {"report": report_dir / "report.html", "compare": compare_dir / f"compare-{base}.html",
            **{name: directory / "report.html" for name, directory in scenario_dirs.items()}}


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("name", ["report", "compare"])
def test_every_chart_renders_large_and_sharp(pages, name, width, tmp_path):
    page = pages[name]
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", page.read_text())
    shown = rendered(page, width, tmp_path)
    images = shown["images"]
    assert len(images) == shown["figures"] == len(captions) >= (12 if name == "report" else 4)
    assert [image["alt"] for image in images] == captions
    undecoded = [image["alt"] for image in images if not image["complete"] or image["natural"] == 0]
    assert not undecoded, f"not decoded by the browser: {undecoded}"
    blurred = [(image["alt"], image["natural"]) for image in images if image["natural"] < SHARP_PX]
    assert not blurred, f"drawn smaller than {SHARP_PX} px: {blurred}"
    small = [(image["alt"], image["shown"], image["tall"]) for image in images
             if image["shown"] < WIDTHS[width] or image["tall"] < 180]
    assert not small, f"shown smaller than {WIDTHS[width]} px wide at a {width} px window: {small}"
    assert shown["overflow"] <= 0, f"the page is {shown['overflow']} px wider than a {width} px window"


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("name", ["report", "mode-compare", "canary-rollback"])
def test_tables_wrap_inside_their_column_and_charts_keep_their_drawn_size(pages, name, width, tmp_path):
    """A side table wraps within its column (none reaches past it, where it is cut off or has to be scrolled), and
    no chart is blown up past the width it was drawn at (its fonts would dwarf every other chart's)."""
    shown = rendered(pages[name], width, tmp_path)
    over = [(table["title"], table["over"], table["column"]) for table in shown["tables"] if table["over"] > 0]
    assert not over, f"tables reach past their column at a {width} px window (title, px over, column px): {over}"
    upscaled = [(image["alt"], image["natural"], image["shown"]) for image in shown["images"]
                if image["shown"] > image["natural"] + 1]
    assert not upscaled, f"charts shown wider than drawn (natural, shown px): {upscaled}"
