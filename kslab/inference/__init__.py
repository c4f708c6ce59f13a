"""Talking to a model server: KServe V1 and the Open Inference Protocol (V2) over HTTP."""
