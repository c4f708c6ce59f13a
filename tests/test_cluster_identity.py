"""kslab deletes only the cluster it created, not a same-named one made since (issue 13 item 6), and a bad
clusters.json entry is named without spoiling the others (item 11).

kind has no cluster uid; its node containers (labelled io.x-k8s.kind.cluster=<name>) get new random ids when
the cluster is created again, and minikube's docker-driver container (name.minikube.sigs.k8s.io=<profile>)
likewise. The fake docker's ids are pinned to that below.
"""

from __future__ import annotations

import json
import re

from kslab.cli.main import run
from kslab.config.model import Settings
from kslab.exitcodes import ExitCode
from kslab.models.environment import Environment
from kslab.providers.registry import make_provider
from tests.state_support import cli_state_dir
from tests.up_support import lab_env_fixture  # noqa: F401  (fixture registration)


def _created_by_kslab(provider: str):
    made = make_provider(Settings(provider=provider), Environment.from_process())
    made.create()
    return made


def _deletes(tools, tool: str) -> list[list[str]]:
    verb = ["delete", "cluster"] if tool == "kind" else ["delete"]
    return [a for a in tools.calls(tool) if a[:len(verb)] == verb]


def _ids(tools, label: str) -> list[str]:
    result = tools.run("docker", "ps", "-a", "--filter", label, "--format", "{{.ID}}")
    return result.stdout.split()


def test_fake_docker_gives_each_new_node_container_a_new_id(lab_env):
    lab_env.run("kind", "create", "cluster", "--name", "x")
    first = _ids(lab_env, "label=io.x-k8s.kind.cluster=x")
    assert len(first) == 1 and re.fullmatch(r"[0-9a-f]{12}", first[0])  # `docker ps` truncates to 12
    full = lab_env.run("docker", "ps", "-a", "--no-trunc", "--filter", "label=io.x-k8s.kind.cluster=x",
                       "--format", "{{.ID}}").stdout.split()
    assert re.fullmatch(r"[0-9a-f]{64}", full[0]) and full[0].startswith(first[0])
    assert _ids(lab_env, "label=io.x-k8s.kind.cluster=x") == first  # stable while the container lives
    lab_env.run("kind", "delete", "cluster", "--name", "x")
    lab_env.run("kind", "create", "cluster", "--name", "x")
    assert _ids(lab_env, "label=io.x-k8s.kind.cluster=x") != first

    lab_env.run("minikube", "start", "-p", "mk")
    first = _ids(lab_env, "label=name.minikube.sigs.k8s.io=mk")
    lab_env.run("minikube", "start", "-p", "mk")  # a restart keeps the container
    assert _ids(lab_env, "label=name.minikube.sigs.k8s.io=mk") == first
    lab_env.run("minikube", "delete", "-p", "mk")
    lab_env.run("minikube", "start", "-p", "mk")
    assert _ids(lab_env, "label=name.minikube.sigs.k8s.io=mk") != first


def test_down_refuses_a_kind_cluster_recreated_under_the_same_name(lab_env, capsys):
    _created_by_kslab("kind")
    lab_env.run("kind", "delete", "cluster", "--name", "kslab")  # the user's own delete and create
    lab_env.run("kind", "create", "cluster", "--name", "kslab")
    assert run(["down", "--provider", "kind", "--yes"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "kslab did not create a kind cluster named 'kslab': it is not the one kslab created on" in err
    assert "deleted and created again since" in err and "nothing deleted" in err
    assert len(_deletes(lab_env, "kind")) == 1  # the user's; kslab deleted nothing
    assert "kslab" in lab_env.run("kind", "get", "clusters").stdout.split()
    assert run(["-o", "json", "up", "--provider", "kind"]) == ExitCode.USAGE  # nor reuses it
    assert "a kind cluster named 'kslab' exists but kslab did not create it: it is not the one" in \
        capsys.readouterr().err


def test_down_still_deletes_the_kind_cluster_kslab_created(lab_env, capsys):
    _created_by_kslab("kind")
    assert run(["down", "--provider", "kind", "--yes"]) == ExitCode.OK, capsys.readouterr().err
    assert [a[:4] for a in _deletes(lab_env, "kind")] == [["delete", "cluster", "--name", "kslab"]]
    entry = json.loads((cli_state_dir() / "clusters.json").read_text())["clusters"]
    assert entry == {}


def test_down_refuses_a_minikube_profile_recreated_under_the_same_name(lab_env, capsys):
    _created_by_kslab("minikube")
    lab_env.run("minikube", "start", "-p", "kslab")  # a restart is the same cluster
    lab_env.run("minikube", "delete", "-p", "kslab")
    lab_env.run("minikube", "start", "-p", "kslab")
    assert run(["down", "--provider", "minikube", "--yes"]) == ExitCode.USAGE
    assert "deleted and created again since" in capsys.readouterr().err
    assert len(_deletes(lab_env, "minikube")) == 1


def test_a_malformed_clusters_json_entry_is_named_and_spoils_no_other(lab_env, capsys):
    _created_by_kslab("kind")
    path = cli_state_dir() / "clusters.json"
    data = json.loads(path.read_text())
    data["clusters"]["minikube/kslab"] = {"provider": "minikube", "name": "kslab", "kubeconfig": 3}
    path.write_text(json.dumps(data))
    assert run(["down", "--provider", "minikube", "--yes"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "clusters.json entry 'minikube/kslab' is malformed: missing context, created_at; kubeconfig not a " \
           "string" in err
    assert "Traceback" not in err and "unexpected" not in err
    assert run(["down", "--provider", "kind", "--yes"]) == ExitCode.OK  # the good entry still works
    left = json.loads(path.read_text())["clusters"]
    assert list(left) == ["minikube/kslab"]  # the bad one is left for the user, not dropped


def test_an_unreadable_clusters_json_is_one_line_not_overwritten(lab_env, capsys):
    path = cli_state_dir() / "clusters.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('["not", "an", "object"]')
    assert run(["down", "--provider", "kind", "--yes"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "clusters.json is malformed: 'clusters' is not an object" in err and "Traceback" not in err
    assert path.read_text() == '["not", "an", "object"]'
