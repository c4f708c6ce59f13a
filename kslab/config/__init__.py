"""Configuration: the Settings model and how it is loaded (the YAML loader is imported on first use)."""

from __future__ import annotations

from typing import Any

from kslab.config.model import Settings


def load_settings(*args: Any, **kwargs: Any) -> Settings:
    """See kslab.config.loader.load_settings (imported lazily: yaml costs ~25 ms at CLI start-up)."""
    from kslab.config.loader import load_settings as load

    return load(*args, **kwargs)


__all__ = ["Settings", "load_settings"]
