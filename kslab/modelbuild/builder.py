"""Train a catalog model's recipe on sklearn's bundled iris data and write what the KServe server loads.

``<out>/<name>/<version>/`` gets exactly one model file, ``model.joblib`` (the KServe sklearn server refuses a
directory with more than one), plus ``metadata.json`` describing it and ``holdout.json``, the labelled rows the
seeded split held out of training (kslab/modelbuild/holdout.py). A recipe with ``shuffle_labels`` trains on a
seeded permutation of the labels: a deliberately worse model that still answers (the canary-analysis rollback).
scikit-learn and joblib come from the ``local`` extra and are imported only when a build runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kslab.errors import EnvironmentMissing, UsageError
from kslab.modelbuild.holdout import HOLDOUT_FILE, Holdout, write_holdout
from kslab.models.catalog import BuildRecipe, CatalogModel, catalog_model
from kslab.util.atomic import write_json

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
LOCAL_EXTRA_HINT = "pip install 'kslab[local]' (in a checkout: pip install -e '.[dev,local]')"
DATASETS = {"sklearn-iris": "load_iris"}  # catalog name -> sklearn.datasets loader (bundled, offline)


@dataclass(frozen=True)
class BuildResult:
    name: str
    version: str
    model_dir: Path
    estimator: str
    params: dict[str, Any]
    accuracy: float
    sha256: str
    sklearn_version: str
    created_at: str
    features: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    train_rows: int = 0
    test_rows: int = 0
    shuffle_labels: bool = False  # trained on permuted labels: deliberately worse (a canary to roll back)
    built: bool = field(default=True, compare=False)  # False when read back from an earlier build

    @property
    def model_file(self) -> Path:
        return self.model_dir / MODEL_FILE

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["model_dir"] = str(self.model_dir)
        data["model_file"] = str(self.model_file)
        return data


def models_dir(state: Path) -> Path:
    """Default output directory: ``<state dir>/models`` (``state``: the session's Environment.state_dir)."""
    return state / "models"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _require_sklearn() -> Any:
    try:
        import sklearn
    except ImportError:
        raise EnvironmentMissing("scikit-learn is not installed (needed to build models locally)",
                                 LOCAL_EXTRA_HINT) from None
    return sklearn


def _estimator(recipe: BuildRecipe) -> Any:
    module, _, cls = recipe.estimator.rpartition(".")
    try:
        factory = getattr(importlib.import_module(f"sklearn.{module}"), cls)
    except (ImportError, AttributeError, ValueError):
        raise UsageError(f"catalog estimator {recipe.estimator!r} is not a scikit-learn class",
                         "use '<sklearn submodule>.<class>', e.g. svm.SVC") from None
    return factory(**recipe.params)


def _dataset(model: CatalogModel) -> tuple[Any, Any]:
    loader = DATASETS.get(model.name)
    if loader is None:
        raise UsageError(f"{model.name} has no bundled training data", f"buildable models: {', '.join(DATASETS)}")
    from sklearn import datasets

    return getattr(datasets, loader)(return_X_y=True)


def _dump_atomically(estimator: Any, target: Path) -> None:
    import joblib

    fd, tmp = tempfile.mkstemp(prefix=".model.", suffix=".partial", dir=target.parent)
    os.close(fd)
    try:
        joblib.dump(estimator, tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; a model file is not a secret
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_model(name: str, version: str, out_dir: Path) -> BuildResult:
    """Train ``name``'s ``version`` recipe, score it on a held-out split and write it to out/<name>/<version>/."""
    model = catalog_model(name)
    recipe = model.build(version)
    sklearn = _require_sklearn()
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split

    features, labels = _dataset(model)
    x_train, x_test, y_train, y_test = train_test_split(features, labels, test_size=model.test_size,
                                                        random_state=model.random_state)
    if recipe.shuffle_labels:
        import numpy

        y_train = numpy.random.default_rng(model.random_state).permutation(y_train)
    estimator = _estimator(recipe)
    estimator.fit(x_train, y_train)
    accuracy = float(accuracy_score(y_test, estimator.predict(x_test)))
    target = Path(out_dir) / name / version
    target.mkdir(parents=True, exist_ok=True)
    _dump_atomically(estimator, target / MODEL_FILE)
    write_holdout(target, Holdout(rows=tuple(tuple(float(v) for v in row) for row in x_test),
                                  labels=tuple(int(v) for v in y_test), classes=model.classes,
                                  features=model.features, test_size=model.test_size,
                                  random_state=model.random_state))
    result = BuildResult(
        name=name, version=version, model_dir=target, estimator=recipe.estimator, params=dict(recipe.params),
        accuracy=round(accuracy, 4), sha256=sha256_file(target / MODEL_FILE), sklearn_version=sklearn.__version__,
        created_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), features=model.features,
        classes=model.classes, train_rows=len(y_train), test_rows=len(y_test), shuffle_labels=recipe.shuffle_labels)
    metadata = result.to_dict()
    for key in ("model_dir", "model_file", "built"):
        metadata.pop(key)
    metadata.update(model_file=MODEL_FILE, holdout_file=HOLDOUT_FILE, test_size=model.test_size,
                    random_state=model.random_state)
    write_json(target / METADATA_FILE, metadata)
    return result


def ensure_build(state: Path, name: str, version: str) -> BuildResult:
    """``name``/``version`` under the state dir's models: an intact earlier build, else a new one."""
    return find_build(models_dir(state) / name / version) or build_model(name, version, models_dir(state))


def find_build(model_dir: Path) -> BuildResult | None:
    """An earlier build in ``model_dir`` whose model.joblib still matches its recorded sha256 and that has its
    hold-out set (builds from before holdout.json are rebuilt), else None."""
    meta_path, model_path = model_dir / METADATA_FILE, model_dir / MODEL_FILE
    if not meta_path.is_file() or not model_path.is_file() or not (model_dir / HOLDOUT_FILE).is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("sha256") != sha256_file(model_path):
            return None
        return BuildResult(
            name=meta["name"], version=meta["version"], model_dir=model_dir, estimator=meta["estimator"],
            params=meta.get("params") or {}, accuracy=float(meta["accuracy"]), sha256=meta["sha256"],
            sklearn_version=meta.get("sklearn_version", ""), created_at=meta.get("created_at", ""),
            features=tuple(meta.get("features") or ()), classes=tuple(meta.get("classes") or ()),
            train_rows=int(meta.get("train_rows", 0)), test_rows=int(meta.get("test_rows", 0)),
            shuffle_labels=bool(meta.get("shuffle_labels", False)), built=False)
    except (ValueError, KeyError, TypeError):
        return None
