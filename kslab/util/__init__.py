"""Small building blocks with no knowledge of Kubernetes or KServe."""
