"""Fake ``helm`` v3.18.4: repos, install/upgrade/uninstall against the fake API server, list, status.

Charts come from the DATA table charts.yaml (see helm_chart.py); releases are stored as Helm 3 stores
them (helm_release.py). Error prefixes follow Helm's commands: ``helm install`` wraps every failure in
"INSTALLATION FAILED: ", ``helm upgrade`` of an existing release in "UPGRADE FAILED: ", and
``helm upgrade --install`` of a new release prints "Release "X" does not exist. Installing it now."
and then the install error without a prefix (that is how helm 3 behaves).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from .common import (
    ApiFailure,
    UsageError,
    err,
    out,
    parse_args,
    parse_duration,
    read_state,
    record,
)
from .helm_chart import (
    Chart,
    ChartError,
    deep_merge,
    effective_values,
    locate,
    manifest_text,
    parse_manifest,
    parse_set,
    render,
)
from .helm_query import VERSION, Session, cmd_get, cmd_list, cmd_repo, cmd_status, print_release
from .helm_release import (
    MANAGED_BY,
    RELEASE_NAME,
    RELEASE_NAMESPACE,
    HelmFailure,
    forget,
    history,
    install_sorted,
    now_stamp,
    ownership_problems,
    store,
)

GIT_COMMIT = "d80839cf37d860c8aa9a0503fe463278f26cd5e2"
GLOBAL_VALUE_FLAGS = {"--kubeconfig": "kubeconfig", "--kube-context": "context", "-n": "namespace",
                      "--namespace": "namespace", "--registry-config": "ignored", "--repository-config": "ignored",
                      "--repository-cache": "ignored", "--kube-apiserver": "ignored", "--burst-limit": "ignored"}
GLOBAL_BOOL_FLAGS = {"--debug": "debug"}
INSTALL_VALUE_FLAGS = {"--version": "version", "--set": "set", "--set-string": "set_string", "-f": "values",
                       "--values": "values", "--timeout": "timeout", "-o": "output", "--output": "output",
                       "--description": "description", "--history-max": "history_max", "--post-renderer": "ignored"}
INSTALL_BOOL_FLAGS = {"--create-namespace": "create_namespace", "--wait": "wait", "--wait-for-jobs": "wait",
                      "--atomic": "atomic", "--devel": "ignored", "--skip-crds": "ignored", "--force": "ignored",
                      "--dry-run": "dry_run", "--install": "install", "-i": "install", "--reuse-values": "reuse",
                      "--reset-values": "reset", "--cleanup-on-fail": "ignored", "--generate-name": "generate",
                      "-g": "generate", "--dependency-update": "ignored", "--take-ownership": "take_ownership"}
REPEATABLE = frozenset({"set", "set_string", "values"})
Obj = dict[str, Any]


def _user_values(flags: dict[str, Any]) -> Obj:
    import yaml

    values: Obj = {}
    for path in flags.get("values", []):
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise HelmFailure(f"open {path}: no such file or directory") from None
        values = deep_merge(values, loaded)
    try:
        for expr in flags.get("set", []):
            parse_set(expr, values)
        for expr in flags.get("set_string", []):
            parse_set(expr, values, as_string=True)
    except ChartError as exc:
        raise HelmFailure(str(exc)) from None
    return values


def _locate(flags: dict[str, Any], ref: str) -> Chart:
    repos = read_state("helm").get("repos", {})
    try:
        chart, pulled = locate(ref, flags.get("version"), repos)
    except ChartError as exc:
        raise HelmFailure(str(exc)) from None
    if pulled:
        err(f"Pulled: {pulled}\nDigest: sha256:{hashlib.sha256(pulled.encode()).hexdigest()}")
    return chart


def _prepare(session: Session, chart: Chart, name: str, values: Obj, source: str = "release manifest"
             ) -> list[Obj]:
    """Rendered objects with namespaces and helm's ownership metadata, in install order."""
    try:
        objects = render(chart, name, session.namespace, values)
    except ChartError as exc:
        raise HelmFailure(str(exc)) from None
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        try:
            _, namespaced = session.kube.mapping(obj)
        except HelmFailure as exc:
            raise HelmFailure(f"unable to build kubernetes objects from {source}: {exc}") from None
        if namespaced:
            meta.setdefault("namespace", session.namespace)
        else:
            meta.pop("namespace", None)
        meta.setdefault("labels", {})[MANAGED_BY] = "Helm"
        meta.setdefault("annotations", {}).update({RELEASE_NAME: name, RELEASE_NAMESPACE: session.namespace})
    return install_sorted(objects)


def _check_ownership(session: Session, objects: list[Obj], name: str, verb: str) -> None:
    for obj in objects:
        live = session.kube.get(obj)
        problems = ownership_problems(live, name, session.namespace) if live else []
        if problems:
            raise HelmFailure(f'Unable to continue with {verb}: {obj["kind"]} "{obj["metadata"]["name"]}" in '
                              f'namespace "{obj["metadata"].get("namespace", "")}" exists and cannot be imported '
                              f"into the current release: invalid ownership metadata; " + "; ".join(problems))


def _new_release(chart: Chart, name: str, namespace: str, version: int, user: Obj, objects: list[Obj],
                 status: str, first: str | None) -> Obj:
    stamp = now_stamp().isoformat()
    notes = chart.notes.replace("{{ .Chart.AppVersion }}", chart.app_version)
    return {"name": name, "namespace": namespace, "version": version, "config": user,
            "info": {"first_deployed": first or stamp, "last_deployed": stamp, "deleted": "", "description": "",
                     "status": status, "notes": notes},
            "chart": {"metadata": {"name": chart.name, "version": chart.version, "appVersion": chart.app_version,
                                   "description": chart.description, "apiVersion": "v2", "type": "application"},
                      "values": chart.values},
            "manifest": manifest_text(chart, objects), "hooks": []}


def _apply_all(session: Session, objects: list[Obj]) -> None:
    for obj in objects:
        try:
            session.kube.apply(obj)
        except ApiFailure as exc:
            raise HelmFailure(f'failed to create resource: {exc.message}') from None


def _finish(session: Session, release: Obj, objects: list[Obj], flags: dict[str, Any], done: str) -> None:
    """Wait if asked, then record the release as deployed (or failed)."""
    timeout = parse_duration(flags.get("timeout", "5m0s"))
    if flags.get("wait") and not session.kube.wait(objects, timeout):
        release["info"].update(status="failed", description=f"Release \"{release['name']}\" failed: context "
                               "deadline exceeded")
        store(session.kube, release, create=False)
        raise HelmFailure("context deadline exceeded")
    release["info"].update(status="deployed", description=done)
    store(session.kube, release, create=False)


def install(session: Session, name: str, ref: str, flags: dict[str, Any]) -> Obj:
    chart = _locate(flags, ref)
    user = _user_values(flags)
    existing = history(session.kube, name, session.namespace)
    if existing and existing[-1]["info"]["status"] != "uninstalled":
        raise HelmFailure("cannot re-use a name that is still in use")
    objects = _prepare(session, chart, name, effective_values(chart, user))
    if flags.get("create_namespace"):
        try:
            session.kube.api.request("POST", "/api/v1/namespaces", {
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": session.namespace,
                                                                      "labels": {"name": session.namespace}}})
        except ApiFailure as exc:
            if exc.status != 409:
                raise HelmFailure(f"create: failed to create: {exc.message}") from None
    if not flags.get("take_ownership"):
        _check_ownership(session, objects, name, "install")
    version = existing[-1]["version"] + 1 if existing else 1  # reinstall over an uninstalled (kept) history
    release = _new_release(chart, name, session.namespace, version, user, objects, "pending-install", None)
    store(session.kube, release, create=True)
    try:
        _apply_all(session, objects)
        _finish(session, release, objects, flags, "Install complete")
    except HelmFailure as exc:
        if release["info"]["status"] == "pending-install":
            release["info"].update(status="failed", description=f"Release \"{name}\" failed: {exc}")
            store(session.kube, release, create=False)
        if flags.get("atomic"):  # roll the failed install back: objects and release record go away
            for obj in reversed(objects):
                session.kube.delete(obj)
            forget(session.kube, release)
            raise HelmFailure(f"release {name} failed, and has been uninstalled due to atomic being set: {exc}") \
                from None
        raise
    return release


def upgrade(session: Session, name: str, ref: str, flags: dict[str, Any], past: list[Obj]) -> Obj:
    chart = _locate(flags, ref)  # helm reports chart lookup errors without the UPGRADE FAILED prefix
    try:
        return _upgrade(session, name, chart, flags, past)
    except HelmFailure as exc:
        raise HelmFailure(f"UPGRADE FAILED: {exc}") from None


def _upgrade(session: Session, name: str, chart: Chart, flags: dict[str, Any], past: list[Obj]) -> Obj:
    last = past[-1]
    if last["info"]["status"].startswith("pending"):
        raise HelmFailure("another operation (install/upgrade/rollback) is in progress")
    user = _user_values(flags)
    if flags.get("reuse") or (not flags.get("reset") and not user):
        user = deep_merge(last.get("config") or {}, user)
    objects = _prepare(session, chart, name, effective_values(chart, user), "new release manifest")
    _check_ownership(session, objects, name, "update")
    release = _new_release(chart, name, session.namespace, last["version"] + 1, user, objects, "pending-upgrade",
                           last["info"]["first_deployed"])
    store(session.kube, release, create=True)
    try:
        _apply_all(session, objects)
        keep = {(o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")) for o in objects}
        for old in reversed(install_sorted(parse_manifest(last.get("manifest", "")))):
            if (old["kind"], old["metadata"]["name"], old["metadata"].get("namespace")) not in keep:
                session.kube.delete(old)
        _finish(session, release, objects, flags, "Upgrade complete")
    except HelmFailure as exc:
        if release["info"]["status"] == "pending-upgrade":
            release["info"].update(status="failed", description=f"Upgrade \"{name}\" failed: {exc}")
            store(session.kube, release, create=False)
        raise
    for old in past:
        if old["info"]["status"] == "deployed":
            old["info"]["status"] = "superseded"
            store(session.kube, old, create=False)
    history_max = int(flags.get("history_max", 10))
    for old in past[:max(0, len(past) + 1 - history_max)] if history_max > 0 else []:
        forget(session.kube, old)
    return release


def cmd_install(session: Session, args: list[str], upgrade_cmd: bool) -> int:
    flags, positionals = parse_args(args, INSTALL_VALUE_FLAGS, INSTALL_BOOL_FLAGS, REPEATABLE)
    if flags.get("generate") and len(positionals) == 1:
        positionals.insert(0, f"{positionals[0].rstrip('/').rsplit('/', 1)[-1]}-{os.getpid()}")
    if len(positionals) != 2:
        raise UsageError(f'"helm {"upgrade" if upgrade_cmd else "install"}" requires 2 arguments')
    name, ref = positionals
    if flags.get("atomic"):
        flags["wait"] = True  # helm: "--wait will be set automatically if --atomic is used"
    session.kube.reachable()
    if not upgrade_cmd:
        try:
            release = install(session, name, ref, flags)
        except HelmFailure as exc:
            raise HelmFailure(f"INSTALLATION FAILED: {exc}") from None
    else:
        past = history(session.kube, name, session.namespace)
        if past and past[-1]["info"]["status"] != "uninstalled":
            release = upgrade(session, name, ref, flags, past)
            if flags.get("output") in (None, "table"):
                out(f'Release "{name}" has been upgraded. Happy Helming!')
        elif not flags.get("install"):
            raise HelmFailure(f'UPGRADE FAILED: "{name}" has no deployed releases')
        else:
            if flags.get("output") in (None, "table"):
                out(f'Release "{name}" does not exist. Installing it now.')
            release = install(session, name, ref, flags)
    print_release(release, flags.get("output"))
    return 0


def cmd_uninstall(session: Session, args: list[str]) -> int:
    flags, names = parse_args(args, {"--timeout": "timeout", "--description": "ignored",
                                     "--cascade": "ignored", "--deletion-propagation": "ignored"},
                              {"--wait": "wait", "--keep-history": "keep", "--ignore-not-found": "ignore",
                               "--dry-run": "dry_run", "--no-hooks": "ignored"})
    if not names:
        raise UsageError('"helm uninstall" requires at least 1 argument')
    session.kube.reachable()
    for name in names:
        past = history(session.kube, name, session.namespace)
        if not past:
            if flags.get("ignore"):
                continue
            raise HelmFailure(f"uninstall: Release not loaded: {name}: release: not found")
        objects = list(reversed(install_sorted(parse_manifest(past[-1].get("manifest", "")))))
        for obj in objects:
            session.kube.delete(obj)
        if flags.get("wait"):
            session.kube.wait(objects, parse_duration(flags.get("timeout", "5m0s")), gone=True)
        for old in past:
            if flags.get("keep"):
                old["info"].update(status="uninstalled", description="Uninstallation complete")
                store(session.kube, old, create=False)
            else:
                forget(session.kube, old)
        out(f'release "{name}" uninstalled')
    return 0


def main(argv: list[str]) -> int:
    record("helm", argv)
    try:
        global_flags: dict[str, Any] = {}
        args: list[str] = []
        i = 0
        while i < len(argv):  # pull global flags out wherever they are
            arg = argv[i]
            name = arg.split("=", 1)[0]
            if name in GLOBAL_VALUE_FLAGS:
                value = arg.split("=", 1)[1] if "=" in arg else (argv[i + 1] if i + 1 < len(argv) else "")
                global_flags[GLOBAL_VALUE_FLAGS[name]] = value
                i += 1 if "=" in arg else 2
                continue
            if arg in GLOBAL_BOOL_FLAGS:
                global_flags[GLOBAL_BOOL_FLAGS[arg]] = True
            else:
                args.append(arg)
            i += 1
        command, rest = (args[0], args[1:]) if args else ("help", [])
        if command == "version":
            flags, _ = parse_args(rest, {"--template": "template"}, {"--short": "short", "--client": "ignored",
                                                                      "-c": "ignored"})
            out(f"{VERSION}+g{GIT_COMMIT[:7]}" if flags.get("short") else
                f'version.BuildInfo{{Version:"{VERSION}", GitCommit:"{GIT_COMMIT}", GitTreeState:"clean", '
                f'GoVersion:"go1.24.4"}}')
            return 0
        if command == "repo":
            return cmd_repo(rest)
        session = Session(global_flags)
        if command in ("install", "upgrade"):
            return cmd_install(session, rest, upgrade_cmd=command == "upgrade")
        if command in ("uninstall", "delete", "del", "un"):
            return cmd_uninstall(session, rest)
        if command in ("list", "ls"):
            return cmd_list(session, rest)
        if command == "status":
            return cmd_status(session, rest)
        if command == "get":
            return cmd_get(session, rest)
        if command == "help":
            out("The Kubernetes package manager")
            return 0
        raise UsageError(f'unknown command "{command}" for "helm"')
    except UsageError as exc:
        err(f"Error: {exc}")
        return 1
    except (HelmFailure, ApiFailure) as exc:
        err(f"Error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
