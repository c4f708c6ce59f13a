"""Errors kslab reports to users: one line saying what is wrong, one line saying how to fix it."""

from __future__ import annotations

from kslab.exitcodes import ExitCode


class KslabError(Exception):
    """Base of every error the CLI prints without a traceback."""

    exit_code: ExitCode = ExitCode.CHECK_FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(KslabError):
    """Bad input: flags, config values, names."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """kslab.yaml or a KSLAB_* variable is invalid."""


class EnvironmentMissing(KslabError):
    """A tool, daemon or cluster kslab needs is not there."""

    exit_code = ExitCode.ENVIRONMENT


class CheckFailed(KslabError):
    """A check or readiness condition failed."""

    exit_code = ExitCode.CHECK_FAILED


class WaitTimeout(KslabError):
    """A wait ran out of time; the message names what was waited for."""

    exit_code = ExitCode.TIMEOUT


class WriteFailed(KslabError, OSError):
    """A file kslab writes could not be written (disk full, read-only, no permission); the message names it.

    Still an OSError, so code that already handles a failed write keeps doing so."""

    exit_code = ExitCode.ENVIRONMENT
