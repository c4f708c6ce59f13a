"""kslab's explainer: a KServe model server whose ``explain()`` attributes the predictor's iris predictions
to the four features (``python -m kslab.explainer``; docs/scenarios.md "The explainer scenario").

It runs as the ``spec.explainer.containers`` container of the explainer scenario, like any KServe
explainer: ``--model_name``, ``--predictor_host`` and ``--http_port`` (kserve/kserve@v0.20.0:
pkg/apis/serving/v1beta1/explainer.go). KServe's own ART explainer cannot explain tabular data
(kserve/kserve@v0.20.0:python/artexplainer/artserver/model.py wants an image and a label).

Its image (kslab/explainer:<kslab version>) is named in manifests/images.yaml, with the Dockerfile that
builds it; the scenarios see the tag as the template name ``explainer_image``.
"""
