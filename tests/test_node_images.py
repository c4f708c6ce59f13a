"""kslab puts the images no registry serves (its own, built from images/) and the lab's runtime images onto
kind/minikube nodes; an existing cluster must be told where to pull them from (manifests/images.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kslab import __version__
from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from kslab.load.jobspec import DEFAULT_IMAGE
from kslab.paths import manifests_dir
from kslab.scenarios.requirements import explainer_image
from kslab.stack.images import load_images
from tests.up_support import lab_env_fixture  # noqa: F401  (fixture registration)

LOAD_TAG = f"kslab/load:{__version__}"
EXPLAINER_TAG = f"kslab/explainer:{__version__}"
RUNTIME = ["kserve/sklearnserver:v0.20.0", "kserve/storage-initializer:v0.20.0"]
ROOT = manifests_dir().parent


def up(capsys, *args):
    code = run(["up", *args])
    return code, capsys.readouterr()


def images_step(tools_tmp: Path) -> dict:
    [latest] = sorted(tools_tmp.glob("reports/*/run.json"))[-1:]
    return next(s for s in json.loads(latest.read_text())["steps"] if s["name"] == "images")


def test_the_catalog_names_kslab_s_images_and_the_release_s_runtime_images():
    catalog = load_images()
    load = catalog.kslab_image("load")
    assert (load.tag, load.config_key) == (LOAD_TAG, "load.image") and load.tag == DEFAULT_IMAGE
    assert load.dockerfile_path.is_file() and not load.tag.startswith("ghcr.io/")
    assert catalog.runtime_images("v0.20.0") == RUNTIME
    explainer = catalog.kslab_image("explainer")
    assert explainer.tag == EXPLAINER_TAG == explainer_image()  # what the explainer scenario deploys
    assert explainer.dockerfile_path.is_file()


def test_up_on_kind_builds_and_loads_kslab_images_and_preloads_runtime_images(lab_env, capsys, tmp_path):
    code, captured = up(capsys)
    assert code == ExitCode.OK, captured.err
    assert ["build", "-t", LOAD_TAG, "-f", str(ROOT / "images/kslab-load/Dockerfile"), str(ROOT)] in \
        lab_env.calls("docker")
    assert ["build", "-t", EXPLAINER_TAG, "-f", str(ROOT / "images/kslab-explainer/Dockerfile"), str(ROOT)] in \
        lab_env.calls("docker")
    loads = [a for a in lab_env.calls("kind") if a[:2] == ["load", "docker-image"]]
    assert loads == [["load", "docker-image", image, "--name", "kslab"]
                     for image in [LOAD_TAG, EXPLAINER_TAG, *RUNTIME]]
    assert [a for a in lab_env.calls("docker") if a[0] == "pull"] == [["pull", image] for image in RUNTIME]
    assert len([a for a in lab_env.calls("docker") if a[0] == "exec"]) == 1  # the node is listed once, not per image
    for image in RUNTIME:
        assert f"{image}: pulling" in captured.err and f"{image}: loading onto the node" in captured.err
    step = images_step(tmp_path)
    assert step["observations"]["kslab"] == [{"image": LOAD_TAG, "action": "loaded"},
                                             {"image": EXPLAINER_TAG, "action": "loaded"}]
    assert [r["action"] for r in step["observations"]["runtime"]] == ["loaded", "loaded"]
    assert lab_env.cluster.node.has_image(f"docker.io/{LOAD_TAG}")  # the fake node sees what kind loaded

    before = {tool: len(lab_env.calls(tool)) for tool in ("docker", "kind")}
    code, captured = up(capsys)  # the node has them all now: nothing is built, pulled or loaded again
    assert code == ExitCode.OK, captured.err
    later = {tool: lab_env.calls(tool)[before[tool]:] for tool in ("docker", "kind")}
    assert [a for a in later["docker"] if a[0] in ("build", "pull")] == []
    assert [a for a in later["kind"] if a[:1] == ["load"]] == []
    assert f"{LOAD_TAG}: already on the node" in captured.err
    assert [r["action"] for r in images_step(tmp_path)["observations"]["runtime"]] == ["present", "present"]


def test_a_runtime_image_that_cannot_be_pulled_is_only_a_warning(lab_env, capsys):
    lab_env._docker(lambda s: s.update(unpullable=[RUNTIME[0]]))
    code, captured = up(capsys)
    assert code == ExitCode.OK, captured.err
    assert f"warning: {RUNTIME[0]} not preloaded (Error response from daemon: pull access denied" in captured.err
    assert "the node will pull it itself" in captured.err
    loads = [a[2] for a in lab_env.calls("kind") if a[:2] == ["load", "docker-image"]]
    assert loads == [LOAD_TAG, EXPLAINER_TAG, RUNTIME[1]]


def test_up_on_minikube_loads_with_minikube_image_load(lab_env, capsys, tmp_path):
    (tmp_path / "kslab.yaml").write_text("provider: minikube\n")
    code, captured = up(capsys)
    assert code == ExitCode.OK, captured.err
    loads = [a for a in lab_env.calls("minikube") if a[:2] == ["image", "load"]]
    assert loads == [["image", "load", image, "-p", "kslab"] for image in [LOAD_TAG, EXPLAINER_TAG, *RUNTIME]]
    assert lab_env.cluster.node.has_image(RUNTIME[0])
    code, captured = up(capsys)
    assert code == ExitCode.OK, captured.err
    assert len([a for a in lab_env.calls("minikube") if a[:2] == ["image", "load"]]) == 4  # skipped: on the node


def test_without_docker_kslab_says_how_to_get_it(lab_env, capsys, monkeypatch):
    from kslab.errors import EnvironmentMissing
    from kslab.providers.images import docker_pull

    (lab_env.bin_dir / "docker").unlink()
    monkeypatch.setenv("PATH", str(lab_env.bin_dir))
    with pytest.raises(EnvironmentMissing) as missing:
        docker_pull(RUNTIME[0], 60)
    assert "docker is not installed" in missing.value.message and "install Docker" in (missing.value.hint or "")


def test_in_cluster_load_builds_and_loads_its_image_just_in_time_on_kind(lab_env, monkeypatch):
    from kslab.config.model import Settings
    from kslab.lab.images import kslab_image_for
    from kslab.session import Session

    assert lab_env.run("kind", "create", "cluster", "--name", "kslab").returncode == 0
    lines: list[str] = []
    assert kslab_image_for(Session(Settings(provider="kind")), "load", lines.append) == LOAD_TAG
    assert [a for a in lab_env.calls("docker") if a[0] == "build"] == [
        ["build", "-t", LOAD_TAG, "-f", str(ROOT / "images/kslab-load/Dockerfile"), str(ROOT)]]
    assert ["load", "docker-image", LOAD_TAG, "--name", "kslab"] in lab_env.calls("kind")
    assert f"{LOAD_TAG}: building from images/kslab-load/Dockerfile" in lines
    assert lab_env.cluster.node.has_image(LOAD_TAG)
    calls = len(lab_env.calls("kind")) + len(lab_env.calls("docker"))
    session = Session(Settings(provider="kind"))  # a second command: a new session asks the node again
    assert kslab_image_for(session, "load", lines.append) == LOAD_TAG  # already there: skipped
    new = [a for a in lab_env.calls("docker") + lab_env.calls("kind") if a[0] in ("build", "load")]
    assert len(new) == 2 and lines[-1] == f"{LOAD_TAG}: already on the node"
    assert len(lab_env.calls("kind")) + len(lab_env.calls("docker")) > calls  # it looked (kind get nodes, crictl)
