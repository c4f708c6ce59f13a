"""Data that crosses layers: the run record, and (later) endpoints, results."""
