"""Port-forwards into the lab cluster: kubectl port-forward kept alive (forward.py) and the route from an
InferenceService to an Endpoint on 127.0.0.1 (endpoints.py)."""
