"""kslab model build: the catalog recipes trained on sklearn's bundled iris data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn

from kslab.cli.main import run
from kslab.errors import UsageError
from kslab.exitcodes import ExitCode
from kslab.modelbuild.builder import BuildResult, build_model, find_build
from kslab.models.catalog import catalog_model

MODEL = "sklearn-iris"


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuildResult]:
    out = tmp_path_factory.mktemp("models")
    return {version: build_model(MODEL, version, out) for version in ("v1", "v2")}


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_build_writes_one_model_file_and_truthful_metadata(builds, version):
    result = builds[version]
    assert result.model_dir.name == version and result.model_dir.parent.name == MODEL
    # one model file (the KServe sklearn server refuses a directory with more), its metadata and the hold-out rows
    assert sorted(p.name for p in result.model_dir.iterdir()) == ["holdout.json", "metadata.json", "model.joblib"]
    meta = json.loads((result.model_dir / "metadata.json").read_text())
    assert meta["sha256"] == hashlib.sha256((result.model_dir / "model.joblib").read_bytes()).hexdigest()
    assert meta["accuracy"] > 0.9
    assert meta["sklearn_version"] == sklearn.__version__
    catalog = catalog_model(MODEL)
    assert meta["features"] == list(catalog.features) and meta["classes"] == list(catalog.classes)
    assert (meta["version"], meta["name"]) == (version, MODEL)
    assert meta["estimator"] == catalog.build(version).estimator and meta["params"] == catalog.build(version).params
    assert meta["test_rows"] == 45 and meta["train_rows"] == 105  # test_size 0.3 of 150 rows
    assert meta["created_at"].endswith("Z")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_built_models_give_the_catalog_answers(builds, version):
    estimator = joblib.load(builds[version].model_file)
    for sample in catalog_model(MODEL).samples:
        assert estimator.predict(np.array(sample.instances)).tolist() == list(sample.expect)


def test_versions_differ_in_estimator(builds):
    assert type(joblib.load(builds["v1"].model_file)).__name__ == "SVC"
    assert type(joblib.load(builds["v2"].model_file)).__name__ == "LogisticRegression"
    assert builds["v1"].sha256 != builds["v2"].sha256


def test_find_build_reads_back_and_rejects_a_changed_model_file(builds, tmp_path):
    again = find_build(builds["v1"].model_dir)
    assert again is not None and not again.built
    assert (again.sha256, again.accuracy, again.estimator) == (builds["v1"].sha256, builds["v1"].accuracy, "svm.SVC")
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("model.joblib", "metadata.json"):
        (copy / name).write_bytes((builds["v1"].model_dir / name).read_bytes())
    (copy / "model.joblib").write_bytes(b"tampered")
    assert find_build(copy) is None
    assert find_build(tmp_path / "missing") is None


def test_unknown_version_and_model_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="no build 'v9'"):
        build_model(MODEL, "v9", tmp_path)
    with pytest.raises(UsageError, match="unknown model"):
        build_model("nope", "v1", tmp_path)


def test_cli_build_json_into_out_dir(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run(["model", "build", MODEL, "--version", "v2", "--out", str(tmp_path / "out"), "-o", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model_dir"] == str(tmp_path / "out" / MODEL / "v2")
    assert data["estimator"] == "linear_model.LogisticRegression"
    assert Path(data["model_file"]).is_file()


def test_cli_build_defaults_to_the_state_dir(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KSLAB_STATE_DIR", str(tmp_path / "state"))
    assert run(["model", "build", MODEL, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["model_dir"] == str(tmp_path / "state" / "models" / MODEL / "v1")


def test_cli_build_bad_version_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run(["model", "build", MODEL, "--version", "v3", "--out", str(tmp_path)]) == ExitCode.USAGE
    assert "error: sklearn-iris has no build 'v3'" in capsys.readouterr().err
