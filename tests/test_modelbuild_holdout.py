"""Model builds keep their hold-out rows beside the model; v2-bad is a deliberately worse build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kslab.errors import UsageError
from kslab.modelbuild.builder import build_model, ensure_build, find_build, models_dir
from kslab.modelbuild.holdout import HOLDOUT_FILE, read_holdout

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("holdout-builds")
    return {v: build_model("sklearn-iris", v, root).model_dir for v in ("v1", "v2", "v2-bad")}


def test_every_build_holds_out_the_same_labelled_rows(builds: dict[str, Path]) -> None:
    held = {v: read_holdout(d) for v, d in builds.items()}
    assert len(held["v1"].rows) == 45  # iris 150 rows, test_size 0.3 (manifests/models/catalog.yaml)
    assert held["v1"] == held["v2"] == held["v2-bad"]
    assert set(held["v1"].labels) == {0, 1, 2}
    assert held["v1"].classes == ("setosa", "versicolor", "virginica") and held["v1"].random_state == 42
    # exactly one model file: the KServe sklearn server refuses a directory with more (holdout.json is JSON)
    assert sorted(p.name for p in builds["v1"].iterdir()) == [HOLDOUT_FILE, "metadata.json", "model.joblib"]


def test_the_hold_out_rows_score_the_build_as_it_reported(builds: dict[str, Path]) -> None:
    import joblib

    for version, model_dir in builds.items():
        held = read_holdout(model_dir)
        answers = joblib.load(model_dir / "model.joblib").predict([list(r) for r in held.rows])
        accuracy = sum(int(a) == y for a, y in zip(answers, held.labels, strict=True)) / len(held.labels)
        assert round(accuracy, 4) == json.loads((model_dir / "metadata.json").read_text())["accuracy"], version


def test_v2_bad_is_trained_on_shuffled_labels_and_is_much_worse(builds: dict[str, Path]) -> None:
    good = json.loads((builds["v2"] / "metadata.json").read_text())
    bad = json.loads((builds["v2-bad"] / "metadata.json").read_text())
    assert bad["shuffle_labels"] is True and good["shuffle_labels"] is False
    assert bad["estimator"] == good["estimator"]
    assert good["accuracy"] >= 0.95 and bad["accuracy"] <= 0.5


def test_a_build_without_its_hold_out_set_is_rebuilt(tmp_path: Path) -> None:
    first = ensure_build(tmp_path, "sklearn-iris", "v1")
    (first.model_dir / HOLDOUT_FILE).unlink()
    assert find_build(models_dir(tmp_path) / "sklearn-iris" / "v1") is None
    again = ensure_build(tmp_path, "sklearn-iris", "v1")
    assert again.built and (again.model_dir / HOLDOUT_FILE).is_file()


def test_a_broken_hold_out_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"holdout\.json is missing"):
        read_holdout(tmp_path)
    (tmp_path / HOLDOUT_FILE).write_text('{"rows": [[1, 2]], "labels": []}')
    with pytest.raises(UsageError, match="as many labels as rows"):
        read_holdout(tmp_path)


def test_the_build_says_when_it_is_the_deliberately_worse_variant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """`kslab model build --model-version v2-bad` says so in its output, and a reused build remembers it."""
    from kslab.cli.main import run

    bad = ensure_build(tmp_path, "sklearn-iris", "v2-bad")
    assert bad.shuffle_labels is True
    again = find_build(bad.model_dir)
    assert again is not None and again.shuffle_labels is True and not again.built
    good = find_build(ensure_build(tmp_path, "sklearn-iris", "v2").model_dir)
    assert good is not None and good.shuffle_labels is False
    monkeypatch.setenv("KSLAB_STATE_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert run(["-o", "json", "model", "build", "sklearn-iris", "--model-version", "v2-bad"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["shuffle_labels"] is True and shown["accuracy"] <= 0.5
