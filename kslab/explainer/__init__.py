"""kslab's explainer: a KServe model server whose ``explain()`` attributes the predictor's iris predictions
to the four features (``python -m kslab.explainer``; docs/scenarios.md "The explainer scenario").

It runs as the ``spec.explainer.containers`` container of the explainer scenario, like any KServe
explainer: ``--model_name``, ``--predictor_host`` and ``--http_port`` (kserve/kserve@v0.20.0:
pkg/apis/serving/v1beta1/explainer.go). KServe's own ART explainer cannot explain tabular data
(kserve/kserve@v0.20.0:python/artexplainer/artserver/model.py wants an image and a label).

This package's ``__init__`` stays import-light (no kserve): the scenario engine reads the image name here.
"""

from __future__ import annotations

from kslab import __version__

# The one place the explainer image is named; images/kslab-explainer/Dockerfile builds it.
IMAGE_REPOSITORY = "kslab/explainer"
IMAGE = f"{IMAGE_REPOSITORY}:{__version__}"
