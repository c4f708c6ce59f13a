"""What every fake tool shares: the invocation log, locked state files, kubeconfig files, and HTTP.

Environment (set by the ``fake_tools`` fixture and baked into the shims as defaults):
``FAKECLUSTER_URL`` (the fake API server), ``FAKE_TOOLS_LOG`` (JSON lines, one per invocation),
``FAKE_TOOLS_STATE`` (a directory of JSON state files), ``FAKE_REAL_KUBECTL`` (the real binary).
Imports stay light (no yaml at import time) because every shim call starts a fresh interpreter.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

Obj = dict[str, Any]
DOCKER_DOWN_MESSAGE = ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                       "Is the docker daemon running?")
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never route through env proxies


# -- invocation log and exits -----------------------------------------------------------------------
def record(tool: str, argv: list[str]) -> None:
    """Append one JSON line for this invocation to $FAKE_TOOLS_LOG (no-op when unset)."""
    log = os.environ.get("FAKE_TOOLS_LOG")
    if not log:
        return
    line = json.dumps({"tool": tool, "argv": argv, "cwd": os.getcwd(),
                       "env": {"KUBECONFIG": os.environ.get("KUBECONFIG")}}) + "\n"
    with open(log, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(line)


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def err(text: str = "") -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def fail(message: str, code: int = 1) -> NoReturn:
    err(message)
    raise SystemExit(code)


def cluster_url() -> str:
    url = os.environ.get("FAKECLUSTER_URL")
    if not url:
        fail("fake tools: FAKECLUSTER_URL is not set", 2)
    return url.rstrip("/")


# -- state files ------------------------------------------------------------------------------------
def state_dir() -> Path:
    raw = os.environ.get("FAKE_TOOLS_STATE")
    path = Path(raw) if raw else Path.home() / ".fake-tools-state"
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_state(name: str, default: Obj | None = None) -> Obj:
    path = state_dir() / f"{name}.json"
    if not path.exists():
        return dict(default or {})
    return json.loads(path.read_text(encoding="utf-8") or "{}")


@contextlib.contextmanager
def locked_state(name: str, default: Obj | None = None) -> Iterator[Obj]:
    """Read-modify-write of one state file under an exclusive lock (concurrent tool calls are safe)."""
    directory = state_dir()
    with open(directory / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = read_state(name, default)
        yield data
        tmp = directory / f"{name}.json.tmp"
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(directory / f"{name}.json")


def docker_state() -> Obj:
    """The fake Docker daemon's state (see docker.py for the keys)."""
    return read_state("docker", {"up": True})


def docker_up() -> bool:
    return bool(docker_state().get("up", True))


# -- durations (Go time.Duration syntax: 300s, 5m, 10m0s, 1h30m, 1.5s, 500ms) ------------------------
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in a Go duration; raises ValueError like time.ParseDuration on bad input."""
    if text in ("0", ""):
        return 0.0
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        raise ValueError(f'time: invalid duration "{text}"')
    return total


def format_duration(seconds: float) -> str:
    """Go's Duration.String() for whole seconds: 5m0s, 1h0m0s, 30s."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


# -- kubeconfig files -------------------------------------------------------------------------------
def kubeconfig_paths(explicit: str | None = None) -> list[Path]:
    """The files client-go (and kind) read: --kubeconfig, else $KUBECONFIG entries, else ~/.kube/config."""
    if explicit:
        return [Path(explicit)]
    seen: list[Path] = []
    for part in os.environ.get("KUBECONFIG", "").split(os.pathsep):
        if part and Path(part) not in seen:
            seen.append(Path(part))
    return seen or [Path.home() / ".kube" / "config"]


def merge_target(explicit: str | None = None) -> Path:
    """The file a tool writes into: the only path, else the first that exists, else the last."""
    paths = kubeconfig_paths(explicit)
    if len(paths) == 1:
        return paths[0]
    for path in paths:
        if path.is_file():
            return path
    return paths[-1]


def _load_yaml(path: Path) -> Obj:
    import yaml

    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load_kubeconfig(explicit: str | None = None) -> Obj:
    """Merged kubeconfig; like client-go, the first file that defines a name (or current-context) wins."""
    merged: Obj = {"clusters": [], "users": [], "contexts": [], "current-context": ""}
    for path in kubeconfig_paths(explicit):
        doc = _load_yaml(path)
        if not merged["current-context"] and doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
        for section in ("clusters", "users", "contexts"):
            known = {e.get("name") for e in merged[section]}
            merged[section].extend(e for e in doc.get(section) or [] if e.get("name") not in known)
    return merged


def upsert_kubeconfig(path: Path, name: str, server: str, *, context: str | None = None,
                      namespace: str | None = None, set_current: bool = True,
                      extra_cluster: Obj | None = None) -> None:
    """Add or replace cluster/user/context ``name`` in ``path`` (creating the file), like kind/minikube."""
    import yaml

    doc = _load_yaml(path) or {}
    doc.setdefault("apiVersion", "v1")
    doc.setdefault("kind", "Config")
    doc.setdefault("preferences", {})
    ctx_name = context or name
    cluster = {"server": server, **(extra_cluster or {})}
    ctx: Obj = {"cluster": name, "user": name}
    if namespace:
        ctx["namespace"] = namespace
    for section, entry in (("clusters", {"name": name, "cluster": cluster}),
                           ("users", {"name": name, "user": {}}),
                           ("contexts", {"name": ctx_name, "context": ctx})):
        items = list(doc.get(section) or [])
        at = next((i for i, e in enumerate(items) if e.get("name") == entry["name"]), None)
        if at is None:
            items.append(entry)
        else:
            items[at] = entry  # replaced in place, as kind's merge does
        doc[section] = items
    if set_current:
        doc["current-context"] = ctx_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def remove_from_kubeconfig(path: Path, name: str, context: str | None = None) -> bool:
    """Drop cluster/user/context entries; clear current-context if it pointed there. True if changed."""
    import yaml

    doc = _load_yaml(path)
    if not doc:
        return False
    ctx_name = context or name
    changed = False
    for section, key in (("clusters", name), ("users", name), ("contexts", ctx_name)):
        items = doc.get(section) or []
        kept = [e for e in items if e.get("name") != key]
        changed |= len(kept) != len(items)
        doc[section] = kept
    if doc.get("current-context") == ctx_name:
        doc["current-context"] = ""
        changed = True
    if changed:
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return changed


class KubeconfigError(Exception):
    pass


def resolve_context(kubeconfig: str | None, context: str | None) -> tuple[str, str | None]:
    """(server URL, context namespace) for the chosen or current context."""
    cfg = load_kubeconfig(kubeconfig)
    name = context or cfg.get("current-context")
    if not name:
        raise KubeconfigError("no context")
    ctx = next((c.get("context") or {} for c in cfg["contexts"] if c.get("name") == name), None)
    if ctx is None:
        raise KubeconfigError(f'context "{name}" does not exist')
    cluster = next((c.get("cluster") or {} for c in cfg["clusters"] if c.get("name") == ctx.get("cluster")), None)
    if not cluster or not cluster.get("server"):
        raise KubeconfigError(f'cluster "{ctx.get("cluster")}" has no server')
    return str(cluster["server"]).rstrip("/"), ctx.get("namespace")


# -- HTTP to the fake API server --------------------------------------------------------------------
class ApiFailure(Exception):
    """A non-2xx answer (status code + decoded body) or a connection failure (status 0)."""

    def __init__(self, status: int, body: Any, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.message = message


class Api:
    """A tiny JSON client for the Kubernetes REST paths (no discovery cache, no retries)."""

    def __init__(self, server: str, user_agent: str, headers: dict[str, str] | None = None) -> None:
        self.server = server.rstrip("/")
        self.user_agent = user_agent
        self.headers = headers or {}

    def request(self, method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None,
                content_type: str = "application/json", timeout: float = 30) -> Any:
        url = self.server + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        req.add_header("User-Agent", self.user_agent)
        for key, value in self.headers.items():
            req.add_header(key, value)
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with _OPENER.open(req, timeout=timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                decoded: Any = json.loads(raw)
            except ValueError:
                decoded = raw.decode(errors="replace")
            message = decoded.get("message") if isinstance(decoded, dict) else None
            raise ApiFailure(exc.code, decoded, message or f"the server returned HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiFailure(0, None, f"Get \"{url}\": {reason}") from None
        return json.loads(raw) if raw else None

    def get(self, path: str, **query: str) -> Any:
        return self.request("GET", path, query=query or None)

    def find(self, path: str) -> Obj | None:
        """GET that maps 404 to None."""
        try:
            return self.request("GET", path)
        except ApiFailure as exc:
            if exc.status == 404:
                return None
            raise


# -- command-line flags (pflag style: --f v, --f=v, -f v, -fv for value flags, bool flags) ------------
class UsageError(Exception):
    """An unknown flag or a value flag without its value (message as pflag words it)."""


def parse_args(args: list[str], value_flags: dict[str, str], bool_flags: dict[str, str],
               repeatable: frozenset[str] = frozenset()) -> tuple[dict[str, Any], list[str]]:
    """Split ``args`` into ({canonical: value or [values] or True}, positionals).

    ``value_flags`` / ``bool_flags`` map every spelling ("-n", "--name") to a canonical name.
    Flags may appear anywhere (cobra interleaves them with positionals); "--" ends flag parsing.
    """
    flags: dict[str, Any] = {}
    positionals: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            positionals.extend(args[i:])
            break
        if not arg.startswith("-") or arg == "-":
            positionals.append(arg)
            continue
        name, has_eq, inline = arg.partition("=")
        if not has_eq and not arg.startswith("--") and len(arg) > 2 and arg[:2] in value_flags:
            name, has_eq, inline = arg[:2], True, arg[2:]  # -nfoo
        if name in bool_flags:
            flags[bool_flags[name]] = (inline.lower() not in ("false", "0")) if has_eq else True
            continue
        if name not in value_flags:
            shown = name if name.startswith("--") else name[:2]
            kind = "flag" if name.startswith("--") else "shorthand flag"
            raise UsageError(f"unknown {kind}: '{shown[1:]}' in {arg}" if kind == "shorthand flag"
                             else f"unknown flag: {shown}")
        if has_eq:
            value = inline
        elif i < len(args):
            value = args[i]
            i += 1
        else:
            raise UsageError(f"flag needs an argument: {name}")
        key = value_flags[name]
        if key in repeatable:
            flags.setdefault(key, []).append(value)
        else:
            flags[key] = value
    return flags, positionals


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
