"""`pip install .` into a fresh venv gives a working `kslab` that reads its data from the wheel."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_installs_into_fresh_venv_and_runs(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("kslab-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    pip = env_dir / "bin" / "pip"
    installed = subprocess.run([str(pip), "install", "-q", str(wheel)], capture_output=True, text=True,
                               timeout=600)
    assert installed.returncode == 0, installed.stderr[-2000:]
    kslab = env_dir / "bin" / "kslab"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    helped = subprocess.run([str(kslab), "--help"], capture_output=True, text=True, cwd=elsewhere, timeout=60)
    assert helped.returncode == 0, helped.stderr
    assert "deploy" in helped.stdout and "scenario" in helped.stdout
    shown = subprocess.run([str(kslab), "-o", "json", "version"], capture_output=True, text=True, cwd=elsewhere,
                           timeout=60)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["kserve"] == "v0.20.0"
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    assert (site / "kslab" / "_data" / "manifests" / "stack" / "versions.yaml").is_file()
    assert not (site / "tests").exists(), "the fake cluster must never ship in the package"
