"""The fake helm's read side and shared settings: Session, release printing, list/status/get, repos."""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from .common import (
    Api,
    KubeconfigError,
    UsageError,
    locked_state,
    out,
    parse_args,
    read_state,
    resolve_context,
)
from .helm_chart import deep_merge, known_repo_urls
from .helm_release import HelmFailure, Kube, all_releases, ansic, go_time, history

VERSION = "v3.18.4"
Obj = dict[str, Any]


class Session:
    """Connection and namespace settings shared by every command (helm's EnvSettings)."""

    def __init__(self, flags: dict[str, Any]) -> None:
        self.flags = flags
        try:
            server, ctx_namespace = resolve_context(flags.get("kubeconfig"), flags.get("context"))
        except KubeconfigError:
            server, ctx_namespace = "http://localhost:8080", None
        self.namespace = flags.get("namespace") or os.environ.get("HELM_NAMESPACE") or ctx_namespace or "default"
        self.kube = Kube(Api(server, f"Helm/{VERSION[1:]}"))




def _status_block(release: Obj, show_notes: bool = True) -> None:
    info = release["info"]
    out(f"NAME: {release['name']}\nLAST DEPLOYED: {ansic(info['last_deployed'])}\nNAMESPACE: {release['namespace']}\n"
        f"STATUS: {info['status']}\nREVISION: {release['version']}\nTEST SUITE: None")
    if show_notes and info.get("notes"):
        out("NOTES:\n" + info["notes"])


def print_release(release: Obj, output: str | None) -> None:
    if output == "json":
        out(json.dumps(release, separators=(",", ":")))
    elif output == "yaml":
        import yaml

        out(yaml.safe_dump(release, sort_keys=False))
    else:
        _status_block(release)




def cmd_list(session: Session, args: list[str]) -> int:
    flags, _ = parse_args(args, {"-o": "output", "--output": "output", "--filter": "filter", "-f": "filter"},
                          {"-A": "all_ns", "--all-namespaces": "all_ns", "-a": "all", "--all": "all",
                           "-q": "short", "--short": "short", "--deployed": "deployed", "--failed": "failed",
                           "--pending": "pending", "--superseded": "superseded", "--uninstalled": "uninstalled",
                           "--no-headers": "no_headers"})
    session.kube.reachable()
    wanted = {s for s in ("deployed", "failed", "superseded", "uninstalled") if flags.get(s)}
    if flags.get("pending"):
        wanted |= {"pending-install", "pending-upgrade", "pending-rollback"}
    if not wanted:
        wanted = {"deployed", "failed"}
    releases = [r for r in all_releases(session.kube, None if flags.get("all_ns") else session.namespace)
                if flags.get("all") or r["info"]["status"] in wanted]
    rows = [{"name": r["name"], "namespace": r["namespace"], "revision": str(r["version"]),
             "updated": go_time(r["info"]["last_deployed"]), "status": r["info"]["status"],
             "chart": f"{r['chart']['metadata']['name']}-{r['chart']['metadata']['version']}",
             "app_version": r["chart"]["metadata"].get("appVersion", "")} for r in releases]
    if flags.get("short"):
        for row in rows:
            out(row["name"])
    elif flags.get("output") == "json":
        out(json.dumps(rows, separators=(",", ":")))
    elif flags.get("output") == "yaml":
        import yaml

        out(yaml.safe_dump(rows, sort_keys=False))
    else:
        header = ["NAME", "NAMESPACE", "REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION"]
        table = ([] if flags.get("no_headers") else [header]) + [list(r.values()) for r in rows]
        widths = [max(len(str(row[i])) for row in table) for i in range(len(header))] if table else []
        for row in table:
            out("\t".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)))
    return 0




def cmd_status(session: Session, args: list[str]) -> int:
    flags, names = parse_args(args, {"-o": "output", "--output": "output", "--revision": "revision"},
                              {"--show-desc": "desc", "--show-resources": "ignored"})
    if len(names) != 1:
        raise UsageError('"helm status" requires 1 argument')
    session.kube.reachable()
    past = history(session.kube, names[0], session.namespace)
    if flags.get("revision"):
        past = [r for r in past if r["version"] == int(flags["revision"])]
    if not past:
        raise HelmFailure("release: not found")
    release = copy.deepcopy(past[-1])
    print_release(release, flags.get("output"))
    if flags.get("desc") and flags.get("output") in (None, "table"):
        out(f"DESCRIPTION: {release['info'].get('description', '')}")
    return 0




def cmd_get(session: Session, args: list[str]) -> int:
    what, rest = (args[0], args[1:]) if args else ("", [])
    flags, names = parse_args(rest, {"-o": "output", "--output": "output", "--revision": "revision"},
                              {"-a": "all", "--all": "all"})
    if what not in ("values", "manifest") or len(names) != 1:
        raise UsageError('"helm get" supports "values RELEASE" and "manifest RELEASE"')
    session.kube.reachable()
    past = history(session.kube, names[0], session.namespace)
    if not past:
        raise HelmFailure("release: not found")
    if what == "manifest":
        out(past[-1].get("manifest", ""))
        return 0
    values = past[-1].get("config") or {}
    if flags.get("all"):
        values = deep_merge(past[-1]["chart"].get("values") or {}, values)
    if flags.get("output") == "json":
        out(json.dumps(values))
    else:
        import yaml

        out("USER-SUPPLIED VALUES:" if not flags.get("all") else "COMPUTED VALUES:")
        out(yaml.safe_dump(values, sort_keys=False) if values else "null")
    return 0




def cmd_repo(args: list[str]) -> int:
    sub, rest = (args[0], args[1:]) if args else ("", [])
    flags, positionals = parse_args(rest, {"-o": "output", "--output": "output", "--username": "ignored",
                                           "--password": "ignored"},
                                    {"--force-update": "force", "--fail-on-repo-update-fail": "ignored"})
    if sub == "add":
        if len(positionals) != 2:
            raise UsageError('"helm repo add" requires 2 arguments')
        name, url = positionals
        if url.rstrip("/") not in known_repo_urls():
            raise HelmFailure(f'looks like "{url}" is not a valid chart repository or cannot be reached: Get '
                              f'"{url.rstrip("/")}/index.yaml": dial tcp: lookup: no such host')
        with locked_state("helm") as state:
            repos = state.setdefault("repos", {})
            if name in repos and not flags.get("force"):
                if repos[name] == url:
                    out(f'"{name}" already exists with the same configuration, skipping')
                    return 0
                raise HelmFailure(f"repository name ({name}) already exists, please specify a different name")
            repos[name] = url
        out(f'"{name}" has been added to your repositories')
        return 0
    repos = read_state("helm").get("repos", {})
    if sub == "update":
        if not repos:
            raise HelmFailure("no repositories found. You must add one before updating")
        out("Hang tight while we grab the latest from your chart repositories...")
        for name in positionals or sorted(repos):
            if name not in repos:
                raise HelmFailure(f"no repositories found matching '{name}'.  Nothing will be updated")
            out(f'...Successfully got an update from the "{name}" chart repository')
        out("Update Complete. ⎈Happy Helming!⎈")
        return 0
    if sub == "list":
        if not repos:
            raise HelmFailure("no repositories to show")
        if flags.get("output") == "json":
            out(json.dumps([{"name": n, "url": u} for n, u in sorted(repos.items())]))
            return 0
        width = max(len("NAME"), *(len(n) for n in repos))
        out(f"{'NAME'.ljust(width)}\tURL")
        for name, url in sorted(repos.items()):
            out(f"{name.ljust(width)}\t{url}")
        return 0
    if sub in ("remove", "rm"):
        with locked_state("helm") as state:
            for name in positionals:
                if name not in state.get("repos", {}):
                    raise HelmFailure(f"no repo named \"{name}\" found")
                del state["repos"][name]
                out(f'"{name}" has been removed from your repositories')
        return 0
    raise UsageError(f'unknown command "{sub}" for "helm repo"')
