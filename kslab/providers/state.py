"""What kslab created, remembered under its state dir so `kslab down` deletes only that."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from kslab.errors import UsageError
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


class ProviderState:
    """A small JSON file under kslab's state dir (Environment.state_dir): clusters kslab created (keyed
    'provider/name')."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = self.root / "clusters.json"

    def kubeconfig_path(self, provider: str, name: str) -> Path:
        return self.root / "kubeconfigs" / f"{provider}-{name}.yaml"

    def _read(self) -> dict[str, dict[str, str]]:
        if not self.path.is_file():
            return {}
        try:
            return dict(json.loads(self.path.read_text(encoding="utf-8")).get("clusters", {}))
        except (OSError, ValueError):
            return {}

    def created(self, provider: str, name: str) -> CreatedCluster | None:
        entry = self._read().get(f"{provider}/{name}")
        return CreatedCluster(**entry) if entry else None

    def remember(self, provider: str, name: str, kubeconfig: Path, context: str) -> CreatedCluster:
        entry = CreatedCluster(provider, name, str(kubeconfig), context,
                               dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
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

    def created_by_kslab(self) -> bool:
        return self.state.created(self.provider, self.name) is not None

    def remember_created(self) -> None:
        self.state.remember(self.provider, self.name, self.kubeconfig, self.context)

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
            raise UsageError(f"a {self.provider} cluster named {self.name!r} exists but kslab did not create it",
                             "use --provider existing with its kubeconfig/context, or another cluster_name")
        event("reuse", what)
        return ClusterUp(self.access(), created=False)

    def teardown_target(self) -> str | None:
        """The cluster ``down()`` deletes; UsageError when kslab did not create it."""
        if self.created_by_kslab():
            return f"{self.provider} cluster '{self.name}'"
        raise UsageError(f"kslab did not create a {self.provider} cluster named '{self.name}'; nothing deleted",
                         "kslab only deletes clusters it created itself")

    def down(self, on_line: LineSink | None = None) -> None:
        """Delete the cluster kslab created (UsageError for one it did not)."""
        self.teardown_target()
        self.delete(on_line=on_line)
