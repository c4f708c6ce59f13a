"""Open a kslab HTML page in headless Chromium and read back what the browser rendered.

The page itself has no script (it must open offline and safely); the test opens a copy with one script appended
that, once the page has loaded, writes what the browser laid out (each image's decode state, natural and shown
size, how far each table reaches past the column that holds it, the page's horizontal overflow) into the DOM,
which Chromium's --dump-dom prints.

On CI (CI=true) a missing Chromium fails the test: .ci/run installs it. Elsewhere the test skips with the reason.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 90
PROBE = """<script>
window.addEventListener('load', () => {
  const box = e => e.getBoundingClientRect();
  const out = {
    width: window.innerWidth,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    figures: document.querySelectorAll('figure').length,
    tables: [...document.querySelectorAll('table')].map(t => {
      const holder = t.parentElement, style = getComputedStyle(holder);
      const inner = box(holder).right - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth);
      const title = t.previousElementSibling && t.previousElementSibling.tagName === 'P'
        ? t.previousElementSibling.textContent : t.rows[0].textContent;
      return {title: title.slice(0, 60), over: Math.round(box(t).right - inner), column: Math.round(box(holder).width)};
    }),
    images: [...document.images].map(i => ({alt: i.alt, complete: i.complete, natural: i.naturalWidth,
                                            shown: Math.round(box(i).width), tall: Math.round(box(i).height)})),
  };
  const pre = document.createElement('pre');
  pre.id = 'kslab-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def chromium() -> str:
    """The browser's path; skips (fails on CI) when there is none."""
    found = next((path for path in map(shutil.which, BROWSERS) if path), None)
    if found is None:
        message = f"no headless browser on PATH ({', '.join(BROWSERS)}): install Debian's chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI installs it in .ci/run)")
        pytest.skip(message)
    return found


def rendered(page: Path, width: int, tmp_path: Path) -> dict[str, Any]:
    """What Chromium laid out for ``page`` in a ``width`` px wide window."""
    probe = tmp_path / f"probe-{width}-{page.name}"
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    profile = tmp_path / f"chromium-profile-{width}"
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={profile}", f"--window-size={width},2000", "--virtual-time-budget=10000",
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=TIMEOUT_S, check=False, stdin=subprocess.DEVNULL)
    found = re.search(r'<pre id="kslab-probe">(.*?)</pre>', done.stdout, re.S)
    assert found, f"chromium exit {done.returncode}, no probe result; stderr: {done.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))
