"""Build the catalog's models locally (scikit-learn on its bundled datasets; no downloads)."""
