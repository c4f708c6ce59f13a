"""Lab services: preflight, bringing the cluster and stack up, tearing them down, status."""
