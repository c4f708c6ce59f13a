"""The command-line interface: argument parsing and rendering only; work happens in services."""
