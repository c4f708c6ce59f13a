"""Where a deployed model answers, for whichever provider the settings name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kslab.config.model import Settings
from kslab.errors import UsageError
from kslab.lab.local import local_endpoint
from kslab.models.catalog import catalog_model
from kslab.models.endpoint import Endpoint

PORT_FORWARD_MODULE = "kslab.portforward.endpoints"


@contextmanager
def model_endpoint(settings: Settings, name: str) -> Iterator[Endpoint]:
    """Yield the Endpoint of ``name``: the local runtime, or a port-forward kept open for the block's duration."""
    catalog_model(name)
    if settings.provider == "local":
        yield local_endpoint(settings, name)
        return
    try:
        from kslab.portforward.endpoints import open_endpoint
    except ImportError as exc:  # the port-forward adapter is not there yet: say so, as other unbuilt parts do
        if exc.name is not None and not PORT_FORWARD_MODULE.startswith(exc.name):
            raise
        raise UsageError(f"reaching {name} on a {settings.provider} cluster needs the port-forward, which is not "
                         "implemented yet", "use --provider local for now") from None
    with open_endpoint(settings, name) as endpoint:
        yield endpoint
