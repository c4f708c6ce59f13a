"""A ``kserve.Model`` that serves a scikit-learn ``model.joblib`` the way KServe's sklearnserver does.

Imported only inside the model-server process (``python -m kslab.local.server``): ``import kserve`` is slow.
Like the cluster runtime it wants exactly one model file in the model directory, takes V1 ``instances`` /
``inputs`` and V2 tensors through kserve's own payload helpers, and reports prediction failures as kserve's
InferenceError (HTTP 500 with the estimator's message).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import kserve
from kserve.errors import InferenceError
from kserve.utils.utils import get_predict_input, get_predict_response

MODEL_SUFFIXES = (".joblib", ".pkl", ".pickle")


class JoblibModel(kserve.Model):
    def __init__(self, name: str, model_dir: Path) -> None:
        super().__init__(name)
        self.model_dir = Path(model_dir)
        self._estimator: Any = None

    def load(self) -> bool:
        files = sorted(p for p in self.model_dir.iterdir() if p.suffix in MODEL_SUFFIXES)
        if len(files) != 1:
            found = ", ".join(p.name for p in files) or "none"
            raise RuntimeError(f"expected exactly one model file ({'/'.join(MODEL_SUFFIXES)}) in {self.model_dir}, "
                               f"found {found}")
        self._estimator = joblib.load(files[0])
        self.ready = True
        return self.ready

    def predict(self, payload: Any, headers: dict[str, str] | None = None) -> Any:
        try:
            result = self._estimator.predict(get_predict_input(payload))
        except Exception as exc:  # the estimator's own message goes back to the client, as on the cluster
            raise InferenceError(str(exc)) from exc
        return get_predict_response(payload, result, self.name)
