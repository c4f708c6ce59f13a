"""One module per command (or group of small commands)."""
