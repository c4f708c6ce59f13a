"""`kslab smoke` and the lab's smoke step: the known-answer checks (kslab.inference.smoke) against the model's
endpoint for the session's provider, recorded in the session's run record when there is one."""

from __future__ import annotations

from collections.abc import Callable

from kslab.inference.smoke import BATCH_SIZE, SmokeCheck, SmokeReport, smoke_endpoint
from kslab.models.catalog import catalog_model
from kslab.session import Session


def smoke(session: Session, name: str, *, on_check: Callable[[SmokeCheck], None] | None = None,
          batch_size: int = BATCH_SIZE) -> SmokeReport:
    """Resolve ``name``'s endpoint for the session's provider and run the smoke checks against it."""
    model = catalog_model(name)
    with session.provider.endpoint(name) as endpoint:
        return smoke_endpoint(endpoint, model, timeout_s=session.settings.timeouts.request, record=session.record,
                              on_check=on_check, batch_size=batch_size)
