"""Endpoint: where an InferenceService answers, as the inference client needs it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """A base URL on 127.0.0.1 (a port-forward or the local runtime) plus what routing needs.

    ``host`` is the Host header the Istio gateway routes on (Knative mode: the host of the
    InferenceService's status.url); None when the URL reaches the model server directly.
    """

    base_url: str  # e.g. "http://127.0.0.1:53127"
    model_name: str  # the name in /v1/models/<name> and /v2/models/<name>
    host: str | None = None
    protocols: tuple[str, ...] = ("v1", "v2")  # what the serving runtime answers
    via: str = "direct"  # direct | port-forward | local

    def headers(self) -> dict[str, str]:
        return {"Host": self.host} if self.host else {}

    def describe(self) -> str:
        return f"{self.base_url}" + (f" (Host: {self.host})" if self.host else "") + f" via {self.via}"
