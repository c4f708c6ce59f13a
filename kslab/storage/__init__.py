"""Adapters for model storage seen from this machine (public object URIs)."""
