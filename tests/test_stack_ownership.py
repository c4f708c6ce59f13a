"""`kslab down --provider existing --uninstall-stack` uninstalls only the Helm releases kslab installed
(issue 13 item 5): a release the user had installed before `kslab up` (reported already-installed) stays, and
so does its namespace."""

from __future__ import annotations

import json

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.state_support import cli_state_dir
from tests.up_support import lab_env_fixture  # noqa: F401  (fixture registration)


def _existing(lab_env) -> list[str]:
    return ["--kubeconfig", str(lab_env.cluster.kubeconfig_path), "--context", "kind-kslab"]


def _users_cert_manager(lab_env) -> None:
    """The user's own cert-manager, installed by hand as cert-manager's docs say (before kslab ever ran)."""
    cluster = ["--kubeconfig", str(lab_env.cluster.kubeconfig_path), "--kube-context", "kind-kslab"]
    added = lab_env.run("helm", "repo", "add", "jetstack", "https://charts.jetstack.io", "--force-update")
    assert added.returncode == 0, added.stderr
    done = lab_env.run("helm", "upgrade", "--install", "cert-manager", "jetstack/cert-manager", "--namespace",
                       "cert-manager", "--create-namespace", "--version", "v1.17.0", "--set", "crds.enabled=true",
                       "--wait", "--timeout", "60s", *cluster)
    assert done.returncode == 0, done.stderr


def test_uninstall_stack_leaves_the_release_the_user_installed(lab_env, capsys):
    from tests.fakecluster.resources import by_key

    _users_cert_manager(lab_env)
    base = _existing(lab_env)
    code = run([*base, "-o", "json", "up", "--provider", "existing"])
    captured = capsys.readouterr()
    assert code == ExitCode.OK, captured.err
    assert json.loads(captured.out)["components"]["cert-manager"] == "already-installed"
    ledger = cli_state_dir() / "releases.json"
    noted = json.loads(ledger.read_text())["clusters"] if ledger.exists() else {}

    assert run([*base, "down", "--provider", "existing", "--uninstall-stack", "--yes"]) == ExitCode.OK
    err = capsys.readouterr().err
    assert "helm uninstall kserve-resources -n kserve" in err and "helm uninstall cert-manager" not in err
    uninstalled = [a[1] for a in lab_env.calls("helm") if a[0] == "uninstall"]
    assert "cert-manager" not in uninstalled and "kserve-crd" in uninstalled
    releases = lab_env.run("helm", "list", "--all-namespaces", "-o", "json", "--kubeconfig",
                           str(lab_env.cluster.kubeconfig_path), "--kube-context", "kind-kslab").stdout
    assert [(r["name"], r["namespace"]) for r in json.loads(releases)] == [("cert-manager", "cert-manager")]
    namespaces = {n["metadata"]["name"] for n in lab_env.cluster.store.list(by_key("/namespaces"))[0]}
    assert "cert-manager" in namespaces and not {"kserve", "istio-system", "knative-operator"} & namespaces
    [(uid, entries)] = noted.items()  # what `up` noted: per cluster, by its kube-system namespace's uid
    kube_system = lab_env.cluster.store.get(by_key("/namespaces"), None, "kube-system")
    assert uid == kube_system["metadata"]["uid"]
    assert "cert-manager" not in {e["release"] for e in entries} and "kserve-crd" in {e["release"] for e in entries}
    assert json.loads(ledger.read_text())["clusters"] == {}  # each uninstalled release is forgotten


def test_uninstall_stack_without_kslab_s_notes_uninstalls_nothing(lab_env, capsys):
    base = _existing(lab_env)
    assert run([*base, "up", "--provider", "existing"]) == ExitCode.OK, capsys.readouterr().err
    (cli_state_dir() / "releases.json").unlink(missing_ok=True)  # as if installed by another machine or the user
    assert run([*base, "down", "--provider", "existing", "--uninstall-stack", "--yes"]) == ExitCode.OK
    assert "helm uninstall" not in capsys.readouterr().err
    assert not [a for a in lab_env.calls("helm") if a[0] == "uninstall"]


def test_up_waits_for_a_users_release_that_is_not_ready_and_never_upgrades_it(lab_env, capsys, monkeypatch):
    """A release the user installed at the wanted version but not ready: kslab waits for it and, when it stays
    broken, fails naming it; it never runs helm upgrade on a release it did not install."""
    from tests.fakecluster.resources import by_key

    _users_cert_manager(lab_env)
    deployments = by_key("apps/deployments")
    lab_env.cluster.store.delete(deployments, "cert-manager", "cert-manager-webhook")  # the user's webhook is gone
    monkeypatch.setenv("KSLAB_TIMEOUTS__INSTALL", "3")
    helm_before = len(lab_env.calls("helm"))
    code = run([*_existing(lab_env), "up", "--provider", "existing"])
    err = capsys.readouterr().err
    assert code == ExitCode.CHECK_FAILED, err
    assert "cert-manager was installed outside kslab and is not ready" in err
    assert "kslab does not modify releases it did not install" in err
    upgrades = [a[2] for a in lab_env.calls("helm")[helm_before:] if a[:2] == ["upgrade", "--install"]]
    assert "cert-manager" not in upgrades, upgrades
