"""Where a deployed model answers, for whichever provider the settings name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kslab.config.model import Settings
from kslab.lab.local import local_endpoint
from kslab.models.catalog import catalog_model
from kslab.models.endpoint import Endpoint


@contextmanager
def model_endpoint(settings: Settings, name: str) -> Iterator[Endpoint]:
    """Yield the Endpoint of ``name``: the local runtime, or a port-forward kept open for the block's duration."""
    catalog_model(name)
    if settings.provider == "local":
        yield local_endpoint(settings, name)
        return
    from kslab.portforward.endpoints import open_endpoint

    with open_endpoint(settings, name) as endpoint:
        yield endpoint
