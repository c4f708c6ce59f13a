"""Fake command-line tools (kind, minikube, docker, helm, a kubectl wrapper) for tests without Docker.

Each tool is a module run as ``python -m tests.fakecluster.tools.<tool>`` through a tiny /bin/sh shim
that the ``fake_tools`` fixture (``fixture.py``) puts first on PATH. The tools talk to the fake API
server over real HTTP, keep their own state (clusters, images, helm repos) in JSON files under
``$FAKE_TOOLS_STATE``, and record every invocation in ``$FAKE_TOOLS_LOG`` (JSON lines).

Modules: ``kind`` (+ ``kind_config``), ``minikube``, ``docker``, ``helm`` (+ ``helm_chart`` with the
chart table ``charts.yaml``, ``helm_release`` for cluster writes and release Secrets, ``helm_query``),
``kubectl`` (+ ``kubectl_forward``): port-forward is emulated, every other verb execs the real kubectl
(``$FAKE_REAL_KUBECTL``); set ``FAKE_KUBECTL_REAL_PORT_FORWARD=1`` to hand port-forward to it as well.
"""
