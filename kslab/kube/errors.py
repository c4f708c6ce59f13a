"""Kubernetes API failures as kslab errors (one line + hint, a meaningful exit code)."""

from __future__ import annotations

from kslab.errors import CheckFailed, EnvironmentMissing

RETRIABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class KubeApiError(CheckFailed):
    """The API server answered with an error Status."""

    def __init__(self, status: int, reason: str, message: str, hint: str | None = None) -> None:
        super().__init__(f"API server: {message} ({status} {reason})", hint)
        self.status = status
        self.reason = reason
        self.api_message = message


class NotFound(KubeApiError):
    pass


class ClusterUnreachable(EnvironmentMissing):
    """No API server answers at the configured address."""


class KubeconfigMissing(EnvironmentMissing):
    """No usable kubeconfig or context."""
