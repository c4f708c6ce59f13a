"""Cluster providers: kind, minikube, an existing cluster, or none (local)."""
