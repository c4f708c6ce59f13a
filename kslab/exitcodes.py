"""Process exit codes: every command ends with one of these (documented in README.md)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # a check, assertion or readiness condition failed
    USAGE = 2  # bad flags, bad config, unknown names, or a command that is not built yet
    ENVIRONMENT = 3  # something the machine must provide is missing (docker, kind, kubectl, a cluster)
    TIMEOUT = 4  # a wait ran out of time
    HANGUP = 129  # SIGHUP (the terminal went away): handled like Ctrl-C
    INTERRUPTED = 130  # Ctrl-C / SIGINT
    TERMINATED = 143  # SIGTERM (kill, CI cancelling a job): handled like Ctrl-C
