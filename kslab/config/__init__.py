"""Configuration: the Settings model and how it is loaded."""

from kslab.config.loader import load_settings
from kslab.config.model import Settings

__all__ = ["Settings", "load_settings"]
