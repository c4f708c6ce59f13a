"""kind: no host port unless asked for, node images pinned by digest per kind release, and a warning when the
installed kind is another release than the one the node image was built for.

kind's release notes list the node images built for that release, each as kindest/node:vX.Y.Z@sha256:<digest>
(https://github.com/kubernetes-sigs/kind/releases); kind's docs advise using those exact digests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kslab.cli.main import run
from kslab.config.model import KindSettings, Settings
from kslab.errors import ConfigError
from kslab.exitcodes import ExitCode
from kslab.models.stack import KindPin
from kslab.providers.kind import render_kind_config
from kslab.providers.preflight import check_kind_release
from kslab.stack.versions import kind_pin, load_matrix
from tests.up_support import lab_env_fixture  # noqa: F401  (fixture registration)

RELEASE = load_matrix().release("0.20")
DIGEST = "7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a"


def test_the_rendered_config_maps_no_host_port_by_default():
    config = render_kind_config(Settings(), RELEASE)
    assert KindSettings().ingress_host_port is None
    assert all("extraPortMappings" not in node for node in config["nodes"])
    assert [n["image"] for n in config["nodes"]] == [f"kindest/node:v1.34.0@sha256:{DIGEST}"]


def test_a_configured_host_port_maps_loopback_to_the_gateway_node_port():
    settings = Settings(kind=KindSettings(workers=1, ingress_host_port=18080))
    control_plane, worker = render_kind_config(settings, RELEASE)["nodes"]
    assert control_plane["extraPortMappings"] == [
        {"containerPort": 31080, "hostPort": 18080, "listenAddress": "127.0.0.1", "protocol": "TCP"}]
    assert worker["role"] == "worker" and "extraPortMappings" not in worker


def test_every_pin_is_a_digest_of_a_kind_release():
    for release in load_matrix().releases.values():
        assert release.kind.kind_release.startswith("v0.")
        assert release.kind.node_image.startswith(f"kindest/node:{release.kind.kubernetes}@sha256:")


@pytest.mark.parametrize(("raw", "problem"), [
    ({"kind_release": "v0.30.0", "node_image": "kindest/node:v1.34.0"}, "is not kindest/node:vX.Y.Z@sha256"),
    ({"kind_release": "v0.30.0", "node_image": "kindest/node:v1.34.0@sha256:abc"}, "@sha256:<digest>"),
    ({"kind_release": "v0.30.0", "node_image": f"kindest/node:latest@sha256:{DIGEST}"}, "@sha256:<digest>"),
    ({"kind_release": "0.30", "node_image": f"kindest/node:v1.34.0@sha256:{DIGEST}"}, "is not a kind release"),
    ({"version": "v0.30.0", "node_image": f"kindest/node:v1.34.0@sha256:{DIGEST}"}, "kind_release and node_image"),
])
def test_a_pin_without_a_digest_or_a_kind_release_is_refused(raw, problem):
    with pytest.raises(ConfigError) as err:
        kind_pin(raw, "versions.yaml: release 0.20")
    assert problem in err.value.message


def test_the_kind_release_check_warns_on_another_release():
    pin = KindPin("v0.30.0", f"kindest/node:v1.34.0@sha256:{DIGEST}")
    assert check_kind_release("kind v0.30.0 go1.24.6 linux/amd64", pin).ok
    other = check_kind_release("kind v0.27.0 go1.23.6 linux/amd64", pin)
    assert (other.ok, other.severity) == (False, "warning")
    assert "kind v0.27.0 installed" in other.detail and "pinned for kind v0.30.0" in other.detail
    assert "install kind v0.30.0" in (other.fix or "")


def test_preflight_warns_when_the_installed_kind_is_another_release(lab_env, capsys, monkeypatch):
    assert run(["-o", "json", "doctor", "--preflight"]) == ExitCode.OK
    rows = {r["check"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["kind release"]["ok"] is True
    monkeypatch.setenv("FAKE_KIND_VERSION", "v0.27.0")
    assert run(["-o", "json", "doctor", "--preflight"]) == ExitCode.OK  # a warning, not a failure
    rows = {r["check"]: r for r in json.loads(capsys.readouterr().out)}
    assert (rows["kind release"]["ok"], rows["kind release"]["severity"]) == (False, "warning")
    assert "kind v0.27.0 installed" in rows["kind release"]["detail"]


def test_up_with_a_host_port_maps_it_and_makes_the_gateway_that_node_port(lab_env, capsys, monkeypatch):
    monkeypatch.setenv("KSLAB_KIND__INGRESS_HOST_PORT", "18080")
    code = run(["-o", "json", "up"])
    assert code == ExitCode.OK, capsys.readouterr().err
    [create] = [a for a in lab_env.calls("kind") if a[:2] == ["create", "cluster"]]
    config = yaml.safe_load(Path(create[create.index("--config") + 1]).read_text())
    assert config["nodes"][0]["extraPortMappings"] == [
        {"containerPort": 31080, "hostPort": 18080, "listenAddress": "127.0.0.1", "protocol": "TCP"}]
    from tests.fakecluster.resources import by_key

    gateway = lab_env.cluster.store.get(by_key("/services"), "istio-system", "istio-ingressgateway")
    http2 = next(p for p in gateway["spec"]["ports"] if p["name"] == "http2")
    assert (gateway["spec"]["type"], http2["nodePort"]) == ("NodePort", 31080)
