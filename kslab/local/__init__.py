"""The local provider's runtime: the real KServe model server as a managed process on 127.0.0.1."""
