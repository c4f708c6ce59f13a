"""The labelled rows a model build held out of training, stored beside the model as ``holdout.json``.

The build splits the bundled data with the catalog's seeded ``train_test_split`` (test_size, random_state), so
every version of a model holds out the same rows: a canary analysis sends them to each revision and counts the
answers that match the labels (accuracy) and the answers two revisions agree on (agreement). The file is JSON
(not a model file: the KServe sklearn server loads only ``.joblib``/``.pkl``/``.pickle``, and refuses more than
one of those), so it can sit in the model directory and travel with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kslab.errors import UsageError
from kslab.util.atomic import write_json

HOLDOUT_FILE = "holdout.json"


@dataclass(frozen=True)
class Holdout:
    rows: tuple[tuple[float, ...], ...]
    labels: tuple[int, ...]
    classes: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    test_size: float | None = None
    random_state: int | None = None

    def __post_init__(self) -> None:
        if len(self.rows) != len(self.labels) or not self.rows:
            raise UsageError(f"a hold-out set needs as many labels as rows (got {len(self.rows)} rows, "
                             f"{len(self.labels)} labels)")

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [list(r) for r in self.rows], "labels": list(self.labels), "classes": list(self.classes),
                "features": list(self.features), "test_size": self.test_size, "random_state": self.random_state}


def write_holdout(model_dir: Path, holdout: Holdout) -> Path:
    target = Path(model_dir) / HOLDOUT_FILE
    write_json(target, holdout.to_dict())
    return target


def read_holdout(model_dir: Path) -> Holdout:
    """The hold-out set of the build in ``model_dir``; a missing or malformed file is a clear UsageError."""
    path = Path(model_dir) / HOLDOUT_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Holdout(rows=tuple(tuple(float(v) for v in row) for row in raw["rows"]),
                       labels=tuple(int(v) for v in raw["labels"]), classes=tuple(raw.get("classes") or ()),
                       features=tuple(raw.get("features") or ()), test_size=raw.get("test_size"),
                       random_state=raw.get("random_state"))
    except FileNotFoundError:
        raise UsageError(f"{path} is missing", "rebuild the model: kslab model build NAME --version V") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not a hold-out set ({type(exc).__name__}: {exc})",
                         "rebuild the model: kslab model build NAME --version V") from None
