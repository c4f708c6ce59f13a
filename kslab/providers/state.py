"""What kslab created, remembered under its state dir so `kslab down` deletes only that.

A record names the cluster and, where the provider can tell, its identity (kind: the ids of its node
containers), so a same-named cluster the user deleted and recreated is not taken for the one kslab created.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from kslab.errors import KslabError, UsageError
from kslab.models.cluster import ClusterAccess, ClusterEventSink, ClusterUp, LineSink
from kslab.providers.cluster import ClusterProvider
from kslab.util.atomic import write_json


@dataclass(frozen=True)
class CreatedCluster:
    provider: str
    name: str
    kubeconfig: str
    context: str
    created_at: str
    identity: str | None = None  # what the provider's identity() said right after creating it

    @classmethod
    def parse(cls, key: str, entry: Any) -> CreatedCluster:
        """The record under ``key``; UsageError naming the entry and what is wrong with it."""
        where = f"clusters.json entry {key!r}"
        if not isinstance(entry, dict):
            raise UsageError(f"{where} is not an object", "remove that entry; kslab then no longer manages it")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(entry) - known)
        missing = sorted(n for n in known - {"identity"} if n not in entry)
        wrong = sorted(n for n in known & set(entry) if not isinstance(entry[n], str)
                       and not (n == "identity" and entry[n] is None))
        problems = ([f"unknown field(s) {', '.join(unknown)}"] if unknown else []) + \
            ([f"missing {', '.join(missing)}"] if missing else []) + \
            ([f"{', '.join(wrong)} not a string"] if wrong else [])
        if not problems and f"{entry['provider']}/{entry['name']}" != key:
            problems.append(f"it names {entry['provider']}/{entry['name']}")
        if problems:
            raise UsageError(f"{where} is malformed: {'; '.join(problems)}",
                             "fix or remove that entry; kslab then no longer manages that cluster")
        return cls(**entry)


class ProviderState:
    """A small JSON file under kslab's state dir (Environment.state_dir): clusters kslab created (keyed
    'provider/name')."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = self.root / "clusters.json"

    def kubeconfig_path(self, provider: str, name: str) -> Path:
        return self.root / "kubeconfigs" / f"{provider}-{name}.yaml"

    def _read(self) -> dict[str, Any]:
        """Every entry as stored (one entry is validated when it is asked for, so a bad one spoils no other);
        UsageError when the file itself is unreadable, rather than overwriting the records it holds."""
        if not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{self.path} is not readable JSON: {exc}",
                             "fix or remove it; kslab then no longer manages the clusters it lists") from None
        clusters = data.get("clusters", {}) if isinstance(data, dict) else None
        if not isinstance(clusters, dict):
            raise UsageError(f"{self.path} is malformed: 'clusters' is not an object of 'provider/name' entries",
                             "fix or remove it; kslab then no longer manages the clusters it lists")
        return dict(clusters)

    def created(self, provider: str, name: str) -> CreatedCluster | None:
        key = f"{provider}/{name}"
        clusters = self._read()
        return CreatedCluster.parse(key, clusters[key]) if key in clusters else None

    def remember(self, provider: str, name: str, kubeconfig: Path, context: str,
                 identity: str | None = None) -> CreatedCluster:
        entry = CreatedCluster(provider, name, str(kubeconfig), context,
                               dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), identity)
        clusters = self._read()
        clusters[f"{provider}/{name}"] = asdict(entry)
        write_json(self.path, {"clusters": clusters})
        return entry

    def forget(self, provider: str, name: str) -> None:
        clusters = self._read()
        if clusters.pop(f"{provider}/{name}", None) is not None:
            write_json(self.path, {"clusters": clusters})


class CreatedClusterProvider(ClusterProvider):
    """What kind and minikube share: kslab's own kubeconfig file and the record of having created the cluster."""

    provider = ""
    creates_clusters = True

    def __init__(self, name: str, context: str, state: ProviderState) -> None:
        super().__init__()
        self.name = name
        self.context = context
        self.state = state
        self.kubeconfig = self.state.kubeconfig_path(self.provider, name)

    def identity(self) -> str | None:
        """What tells this cluster from a same-named one created later (None: the provider cannot tell);
        KslabError when the tool that says it fails."""
        return None

    def created_by_kslab(self) -> bool:
        """kslab's record names this cluster and, when it recorded an identity, the cluster still has it."""
        return self._recreated() is None and self.state.created(self.provider, self.name) is not None

    def _recreated(self) -> str | None:
        """Why the cluster under this name is not the one kslab recorded, or None."""
        record = self.state.created(self.provider, self.name)
        if record is None or record.identity is None:
            return None
        try:
            now = self.identity()
        except KslabError as exc:
            return f"kslab cannot tell it is the one it created ({exc.message})"
        if now is None:
            return f"the one kslab created on {record.created_at} is gone (deleted outside kslab)"
        if now != record.identity:
            return (f"it is not the one kslab created on {record.created_at} (deleted and created again since: "
                    f"node containers {record.identity} then, {now} now)")
        return None

    def remember_created(self) -> None:
        """Record the cluster just created, with its identity when the provider can read it (a failed read
        records none rather than lose the record of a cluster that exists)."""
        try:
            identity = self.identity()
        except KslabError:
            identity = None
        self.state.remember(self.provider, self.name, self.kubeconfig, self.context, identity)

    def forget_created(self) -> None:
        self.state.forget(self.provider, self.name)

    def access(self) -> ClusterAccess:
        return ClusterAccess(str(self.kubeconfig), self.context)

    def create(self, on_line: LineSink | None = None) -> ClusterAccess:
        raise NotImplementedError

    def delete(self, on_line: LineSink | None = None) -> None:
        raise NotImplementedError

    def exists(self) -> bool:
        raise NotImplementedError

    def up(self, on_line: LineSink | None = None, on_event: ClusterEventSink | None = None) -> ClusterUp:
        """Create the cluster when it is missing, reuse one kslab created; UsageError for a same-named cluster
        kslab did not create."""
        event = on_event or (lambda *_: None)
        what = f"{self.provider} cluster {self.name}"
        if not self.exists():
            event("create", what)
            access = self.create(on_line=on_line)
            event("created", what)
            return ClusterUp(access, created=True)
        if not self.created_by_kslab():
            why = self._recreated()
            raise UsageError(f"a {self.provider} cluster named {self.name!r} exists but kslab did not create it"
                             + (f": {why}" if why else ""),
                             "use --provider existing with its kubeconfig/context, or another cluster_name")
        event("reuse", what)
        return ClusterUp(self.access(), created=False)

    def teardown_target(self) -> str | None:
        """The cluster ``down()`` deletes; UsageError when kslab did not create it."""
        if self.created_by_kslab():
            return f"{self.provider} cluster '{self.name}'"
        why = self._recreated()
        raise UsageError(f"kslab did not create a {self.provider} cluster named '{self.name}'"
                         + (f": {why}" if why else "") + "; nothing deleted",
                         "kslab only deletes clusters it created itself")

    def down(self, on_line: LineSink | None = None) -> None:
        """Delete the cluster kslab created (UsageError for one it did not)."""
        self.teardown_target()
        self.delete(on_line=on_line)
