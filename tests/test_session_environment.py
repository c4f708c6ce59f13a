"""A Session's Environment is the only environment kslab reads below the CLI: a hand-made one is obeyed, the
process's is ignored. And the Provider's up()/down() decide what a provider creates and deletes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kslab.config.model import Settings, from_mapping
from kslab.deploy.request import S3Options
from kslab.deploy.storage import read_s3_credentials
from kslab.errors import UsageError
from kslab.load.incluster import image_fix
from kslab.modelbuild.builder import models_dir
from kslab.providers.kubeconfig import default_kubeconfig_path
from kslab.providers.state import ProviderState
from kslab.report.render import render_all
from kslab.session import Environment, Session


@pytest.fixture
def decoy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The process points everywhere else: anything that still read it would land here."""
    decoy = tmp_path / "process"
    for name, value in (("KSLAB_STATE_DIR", decoy / "state"), ("GITHUB_STEP_SUMMARY", decoy / "summary.md"),
                        ("KUBECONFIG", decoy / "kubeconfig"), ("HOME", decoy / "home")):
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("USER", "process-user")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "process-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "process-secret")
    monkeypatch.chdir(tmp_path)
    return decoy


def _env(tmp_path: Path, **environ: str) -> Environment:
    return Environment(environ={"KSLAB_STATE_DIR": str(tmp_path / "mine" / "state"), **environ}, cwd=tmp_path)


def test_paths_come_from_the_sessions_environment(tmp_path, decoy):
    env = _env(tmp_path, HOME=str(tmp_path / "home"), KUBECONFIG=f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    session = Session(Settings(provider="kind"), env)
    assert session.state_dir == tmp_path / "mine" / "state"
    assert session.provider.state.root == tmp_path / "mine" / "state"  # kind's record of what kslab created
    assert session.provider.kubeconfig.is_relative_to(tmp_path / "mine" / "state")
    assert models_dir(session.state_dir) == tmp_path / "mine" / "state" / "models"
    local = Session(Settings(provider="local"), env).provider.runtime
    assert local is not None and local.state == tmp_path / "mine" / "state"
    assert default_kubeconfig_path(env.environ) == tmp_path / "a"
    assert default_kubeconfig_path({"HOME": str(tmp_path / "home")}) == tmp_path / "home" / ".kube" / "config"
    xdg = Environment(environ={"XDG_STATE_HOME": str(tmp_path / "xdg")})
    assert xdg.state_dir == tmp_path / "xdg" / "kslab"


def test_the_record_and_the_step_summary_follow_the_sessions_environment(tmp_path, decoy):
    summary = tmp_path / "summary.md"  # GitHub creates the file; the runner appends to it
    summary.write_text("")
    env = _env(tmp_path, GITHUB_STEP_SUMMARY=str(summary), USER="ada", CI="true")
    session = Session(Settings(provider="existing", reports_dir=str(tmp_path / "reports")), env)
    with session.recorded("report") as record:
        pass
    assert record.data["environment"] == {"user": "ada", "ci": True}
    written = render_all(record.dir, ("md",), environ=session.env.environ)
    assert written["step-summary"] == summary and "# kslab report" in summary.read_text()
    assert not (decoy / "summary.md").exists()
    assert "step-summary" not in render_all(record.dir, ("md",), environ=Environment().environ)
    assert "step-summary" not in render_all(record.dir, ("md",))


def test_s3_keys_come_from_the_given_environ(tmp_path, decoy):
    environ = {"AWS_ACCESS_KEY_ID": "mine-key-1", "AWS_SECRET_ACCESS_KEY": "mine-secret-1"}
    assert read_s3_credentials(S3Options("minio:9000"), environ) == environ
    with pytest.raises(UsageError, match="not found in the environment"):
        read_s3_credentials(S3Options("minio:9000"), {})  # the process has keys: they are not looked at


def test_up_and_down_per_provider(tmp_path):
    env = _env(tmp_path)
    existing = Session(Settings(provider="existing", context="work"), env).provider
    events: list[tuple[str, str]] = []
    up = existing.up(on_event=lambda state, detail: events.append((state, detail)))
    assert (up.created, up.access.context, events) == (False, "work", [("reuse", "existing cluster work")])
    assert existing.teardown_target() is None
    with pytest.raises(UsageError, match="never deletes a cluster it did not create"):
        existing.down()

    kind = Session(Settings(provider="kind"), env).provider
    with pytest.raises(UsageError, match="kslab did not create a kind cluster named 'kslab'"):
        kind.teardown_target()
    ProviderState(env.state_dir).remember("kind", "kslab", tmp_path / "kubeconfig", "kind-kslab")
    assert kind.teardown_target() == "kind cluster 'kslab'"

    local = Session(Settings(provider="local"), env).provider
    with pytest.raises(UsageError, match="provider local has no Kubernetes"):
        local.up()
    lines: list[str] = []
    local.down(lines.append)  # nothing running under this state dir: nothing stopped
    assert lines == [] and local.teardown_target() is None


def test_the_gateway_node_port_and_the_image_hint_come_from_the_provider(tmp_path):
    env = _env(tmp_path)
    mapped = from_mapping(Settings, {"provider": "kind", "kind": {"ingress_host_port": 8080}})
    assert Session(mapped, env).provider.gateway_node_port == 31080
    for provider in ("kind", "minikube", "existing", "local"):
        assert Session(Settings(provider=provider), env).provider.gateway_node_port is None
    kind_nodes = Session(Settings(provider="kind", cluster_name="lab"), env).provider.node_images()
    minikube_nodes = Session(Settings(provider="minikube"), env).provider.node_images()
    assert image_fix("kslab/load:1", kind_nodes.how_to_load).startswith(
        "'kslab up' builds and loads kslab's images, or load it yourself: kind load docker-image kslab/load:1 "
        "--name lab; see")
    assert "minikube image load kslab/load:1 -p kslab; see" in image_fix("kslab/load:1", minikube_nodes.how_to_load)
    assert image_fix("kslab/load:1", None).startswith("push the image to a registry the cluster can pull from")
