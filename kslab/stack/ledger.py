"""The Helm releases kslab installed itself, per cluster, under kslab's state dir.

`kslab up` notes a release before its first `helm upgrade --install` when no release of that name was in
that namespace; one it found there (reported already-installed, or an upgrade plan) is the user's and is never
noted. `kslab down --uninstall-stack` uninstalls only noted releases. A cluster is known by its kube-system
namespace's uid (kslab.kube.ownership.cluster_uid), so a record never applies to another cluster that a
context later points at.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

from kslab.errors import UsageError
from kslab.util.atomic import write_json

_LOCK = threading.Lock()  # components install in parallel threads; each note is a read-modify-write
_FIX = "fix or remove it; kslab then uninstalls no release on 'kslab down --uninstall-stack'"


class ReleaseLedger:
    def __init__(self, state_dir: Path, cluster_uid: str) -> None:
        self.path = state_dir / "releases.json"
        self.cluster_uid = cluster_uid

    def _read(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{self.path} is not readable JSON: {exc}", _FIX) from None
        clusters = data.get("clusters", {}) if isinstance(data, dict) else None
        if not isinstance(clusters, dict):
            raise UsageError(f"{self.path} is malformed: 'clusters' is not an object", _FIX)
        return clusters

    def _entries(self, clusters: dict[str, Any]) -> list[dict[str, str]]:
        entries = clusters.get(self.cluster_uid, [])
        good = isinstance(entries, list) and all(
            isinstance(e, dict) and isinstance(e.get("release"), str) and isinstance(e.get("namespace"), str)
            for e in entries)
        if not good:
            raise UsageError(f"{self.path}: the entry of cluster {self.cluster_uid} is malformed (want a list of "
                             "{release, namespace})", _FIX)
        return list(entries)

    def installed(self) -> set[tuple[str, str]]:
        """(release, namespace) of every release kslab installed on this cluster."""
        return {(e["release"], e["namespace"]) for e in self._entries(self._read())}

    def note(self, release: str, namespace: str) -> None:
        with _LOCK:
            clusters = self._read()
            entries = self._entries(clusters)
            if any((e["release"], e["namespace"]) == (release, namespace) for e in entries):
                return
            entries.append({"release": release, "namespace": namespace,
                            "installed_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
            clusters[self.cluster_uid] = entries
            write_json(self.path, {"clusters": clusters})

    def forget(self, release: str, namespace: str) -> None:
        with _LOCK:
            clusters = self._read()
            entries = self._entries(clusters)
            kept = [e for e in entries if (e["release"], e["namespace"]) != (release, namespace)]
            if len(kept) == len(entries):
                return
            if kept:
                clusters[self.cluster_uid] = kept
            else:
                clusters.pop(self.cluster_uid, None)
            write_json(self.path, {"clusters": clusters})
