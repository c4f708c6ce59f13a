"""What one inference-related request returned, as data (never a traceback)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CallResult:
    """One HTTP exchange with a model server."""

    operation: str  # health | model-ready | metadata | predict | infer | raw
    protocol: str  # v1 | v2
    method: str
    url: str
    status_code: int
    latency_ms: float  # the answered attempt, request sent → body read
    body: Any  # parsed JSON, or None when the answer was not JSON
    text: str  # the raw answer (for people; may be truncated in output)
    error: str | None = None  # the server's message for a non-2xx answer
    attempts: int = 1
    predictions: list[Any] | None = None  # V1 predictions / V2 outputs[0].data

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data.pop("text")
        return data
