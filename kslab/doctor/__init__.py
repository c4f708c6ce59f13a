"""Finding the broken layer: failure signatures (manifests/diagnosis/signatures.yaml) and the evidence they match."""
