"""Adapter to the Kubernetes API: client construction, retries, typed errors, watch-based waits."""
