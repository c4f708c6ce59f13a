"""Settings: defaults < kslab.yaml < KSLAB_* < flags, and validation errors that name the key."""

from __future__ import annotations

import pytest

from kslab.config import load_settings
from kslab.errors import ConfigError


def load(tmp_path, text=None, env=None, **overrides):
    if text is not None:
        (tmp_path / "kslab.yaml").write_text(text)
    return load_settings(overrides=overrides, env=env or {}, cwd=tmp_path)


def test_defaults(tmp_path):
    settings = load(tmp_path)
    assert settings.provider == "kind"
    assert settings.namespace == "kserve-test"
    assert settings.kserve_version == "0.20.0"
    assert settings.mode == "knative"
    assert settings.timeouts.deploy == 600


def test_precedence_file_env_flags(tmp_path):
    text = "namespace: from-file\ncluster_name: filecluster\nkind:\n  workers: 1\n"
    assert load(tmp_path, text).namespace == "from-file"
    env = {"KSLAB_NAMESPACE": "from-env", "KSLAB_KIND__WORKERS": "2"}
    settings = load(tmp_path, text, env)
    assert (settings.namespace, settings.kind.workers, settings.cluster_name) == ("from-env", 2, "filecluster")
    settings = load(tmp_path, text, env, namespace="from-flag")
    assert settings.namespace == "from-flag"
    assert settings.kind.workers == 2


def test_config_path_from_env(tmp_path):
    other = tmp_path / "elsewhere.yaml"
    other.write_text("provider: minikube\n")
    assert load_settings(env={"KSLAB_CONFIG": str(other)}, cwd=tmp_path).provider == "minikube"


@pytest.mark.parametrize(("text", "message"), [
    ("provider: docker\n", "provider: 'docker' is not one of kind, minikube, existing, local"),
    ("namespace: Bad_Name\n", "namespace: 'Bad_Name' is not a lowercase DNS-1123 label"),
    ("kind:\n  workers: many\n", "kind.workers: expected a whole number, got 'many'"),
    ("kind:\n  workers: 99\n", "kind.workers: 99 is above the maximum 8"),
    ("timeouts:\n  deploy: 0\n", "timeouts.deploy: 0 is below the minimum 1"),
    ("kserve_version: latest\n", "kserve_version: 'latest' is not a version like 0.20.0"),
    ("kind:\n  wokers: 1\n", "unknown key 'kind.wokers'"),
    ("verbose: maybe\n", "verbose: expected true or false, got 'maybe'"),
    ("- a\n- b\n", "expected a mapping of settings at the top level"),
    ("namespace: [\n", "not valid YAML (line 2, column 1)"),
    # issue 14: the lab's profile is checked with the rest of the file, not after deploy and smoke
    ("lab:\n  load_profile: 5\n", "lab.load_profile: '5' is not steps of concurrency and a step duration"),
    ("lab:\n  load_profile: 1,x@5s\n", "lab.load_profile: '1,x@5s' is not steps of concurrency"),
    ("lab:\n  load_warmup: soon\n", "lab.load_warmup: 'soon' is not a duration"),
])
def test_invalid_file_values_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert message in caught.value.message
    assert str(tmp_path / "kslab.yaml") in caught.value.message


def test_unknown_key_suggests_the_close_one(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "namespce: x\n")
    assert caught.value.hint == "did you mean 'namespace'?"


def test_unknown_environment_key_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, env={"KSLAB_NAMSPACE": "x"})
    assert caught.value.message.startswith("environment: unknown key 'namspace'")


def test_env_booleans(tmp_path):
    assert load(tmp_path, env={"KSLAB_VERBOSE": "yes"}).verbose is True
    assert load(tmp_path, env={"KSLAB_COLOR": "0"}).color is False


def test_a_bad_lab_load_profile_stops_kslab_lab_before_any_work(tmp_path, monkeypatch, capsys):
    from kslab.cli.main import run
    from kslab.exitcodes import ExitCode

    monkeypatch.chdir(tmp_path)
    (tmp_path / "kslab.yaml").write_text("lab:\n  load_profile: 5\n")
    assert run(["lab", "--provider", "local"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "lab.load_profile: '5'" in err and "--profile" not in err
    assert not (tmp_path / "reports").exists()  # nothing ran, nothing recorded


def test_a_warmup_longer_than_the_lab_profile_names_both_keys_before_any_work(tmp_path, monkeypatch, capsys):
    from kslab.cli.main import run
    from kslab.exitcodes import ExitCode

    monkeypatch.chdir(tmp_path)
    (tmp_path / "kslab.yaml").write_text("lab:\n  load_profile: 1,2@2s\n  load_warmup: 5s\n")
    assert run(["lab", "--provider", "local"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "error: lab.load_profile '1,2@2s' with lab.load_warmup '5s'" in err and "--warmup" not in err
    assert not (tmp_path / "reports").exists()
