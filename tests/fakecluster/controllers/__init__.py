"""Simulated controllers that make the fake API server behave like a kind cluster running the KServe lab.

``ControllerManager(cluster, settings).start()`` runs them; ``cluster.controllers.settings`` holds the
knobs (versions, delays, failure modes) and ``cluster.controllers.set_load(...)`` drives the Knative
autoscaler stand-in. ``lab`` has helpers that seed an installed stack for tests.
"""

from .manager import ControllerManager
from .settings import ControllerSettings

__all__ = ["ControllerManager", "ControllerSettings"]
