"""The fake kind, minikube and docker CLIs, driven through their PATH shims against the fake cluster."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml
from kubernetes import client, config

DOCKER_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"


def _contexts(path: Path) -> tuple[list[str], str]:
    doc = yaml.safe_load(path.read_text())
    return [c["name"] for c in doc["contexts"]], doc.get("current-context", "")


def test_shims_are_first_on_path_and_log_every_call(fake_tools):
    for tool in ("kind", "minikube", "docker", "helm", "kubectl"):
        found = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        assert found == str(fake_tools.bin_dir / tool)
    assert fake_tools.run("kind", "version").stdout == "kind v0.30.0 go1.24.6 linux/amd64\n"
    subprocess.run(["docker", "--version"], check=True, capture_output=True, cwd=fake_tools.state_dir)
    records = fake_tools.records()
    assert [r["tool"] for r in records] == ["kind", "docker"]
    assert records[1] == {"tool": "docker", "argv": ["--version"], "cwd": str(fake_tools.state_dir),
                          "env": {"KUBECONFIG": os.environ["KUBECONFIG"]}}
    assert fake_tools.calls("kind") == [["version"]]


def test_kind_create_gives_a_kubeconfig_kubectl_and_the_python_client_can_use(fake_tools):
    created = fake_tools.run("kind", "create", "cluster", "--name", "lab", "--wait", "2m")
    assert created.returncode == 0, created.stderr
    assert created.stdout == ""
    lines = created.stderr.splitlines()
    assert lines[0] == 'Creating cluster "lab" ...'
    assert " ✓ Ensuring node image (kindest/node:v1.34.0) 🖼" in lines
    assert " ✓ Waiting ≤ 2m0s for control-plane = Ready ⏳" in lines
    assert 'Set kubectl context to "kind-lab"' in lines
    kubeconfig = Path(os.environ["KUBECONFIG"])
    names, current = _contexts(kubeconfig)
    assert names == ["kind-kslab", "kind-lab"] and current == "kind-lab"

    listed = subprocess.run(["kubectl", "get", "ns", "-o", "name"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "namespace/kube-system" in listed.stdout.split()
    assert fake_tools.calls("kubectl") == [["get", "ns", "-o", "name"]]

    api = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig), context="kind-lab"))
    assert "default" in {ns.metadata.name for ns in api.list_namespace().items}
    assert fake_tools.run("kind", "get", "clusters").stdout == "lab\n"
    assert fake_tools.run("kind", "get", "nodes", "--name", "lab").stdout == "lab-control-plane\n"
    shown = yaml.safe_load(fake_tools.run("kind", "get", "kubeconfig", "--name", "lab").stdout)
    assert shown["clusters"][0]["cluster"]["server"] == fake_tools.cluster.url


def test_kind_refuses_a_second_cluster_with_the_same_name(fake_tools):
    assert fake_tools.run("kind", "create", "cluster", "--name", "lab").returncode == 0
    again = fake_tools.run("kind", "create", "cluster", "--name", "lab")
    assert again.returncode == 1
    assert again.stderr == 'ERROR: failed to create cluster: node(s) already exist for a cluster with the name "lab"\n'


def test_kind_fails_like_kind_when_docker_is_down(fake_tools):
    fake_tools.set_docker_down(True)
    failed = fake_tools.run("kind", "create", "cluster", "--name", "lab")
    assert failed.returncode == 1
    assert failed.stderr.startswith("ERROR: failed to create cluster: failed to get docker info: ")
    assert DOCKER_DOWN in failed.stderr
    assert "Creating cluster" not in failed.stderr
    listed = fake_tools.run("kind", "get", "clusters")
    assert listed.returncode == 1 and "ERROR: failed to list clusters" in listed.stderr
    assert fake_tools.run("docker", "--version").returncode == 0
    info = fake_tools.run("docker", "info", "--format", "{{json .}}")
    assert (info.returncode, info.stderr.strip()) == (1, DOCKER_DOWN)
    fake_tools.set_docker_down(False)
    assert fake_tools.run("kind", "create", "cluster", "--name", "lab").returncode == 0


def test_kind_config_is_decoded_strictly_and_shapes_the_nodes(fake_tools, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworkin: {}\n")
    failed = fake_tools.run("kind", "create", "cluster", "--config", str(bad))
    assert failed.returncode == 1
    assert "unable to decode config: yaml: unmarshal errors:\n  line 3: field networkin not found in type " \
           "v1alpha4.Cluster" in failed.stderr
    good = tmp_path / "kind.yaml"
    good.write_text(yaml.safe_dump({
        "kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "name": "fromconfig",
        "nodes": [{"role": "control-plane", "extraPortMappings": [
            {"containerPort": 30950, "hostPort": 8080, "listenAddress": "127.0.0.1", "protocol": "TCP"}]},
            {"role": "worker"}]}))
    created = fake_tools.run("kind", "create", "cluster", "--config", str(good))
    assert created.returncode == 0, created.stderr
    assert " ✓ Joining worker nodes 🚜" in created.stderr.splitlines()
    nodes = fake_tools.run("kind", "get", "nodes", "--name", "fromconfig").stdout.split()
    assert nodes == ["fromconfig-control-plane", "fromconfig-worker"]
    ps = fake_tools.run("docker", "ps", "--filter", "label=io.x-k8s.kind.cluster=fromconfig", "--format",
                        "{{.Names}} {{.Ports}}").stdout.splitlines()
    assert ps[0] == "fromconfig-control-plane 127.0.0.1:8080->30950/tcp"
    clash = good.read_text().replace("fromconfig", "second")
    (tmp_path / "second.yaml").write_text(clash)
    taken = fake_tools.run("kind", "create", "cluster", "--config", str(tmp_path / "second.yaml"))
    assert taken.returncode == 1 and "Bind for 127.0.0.1:8080 failed: port is already allocated" in taken.stderr


def test_kind_delete_removes_the_context_and_is_idempotent(fake_tools, tmp_path):
    explicit = tmp_path / "explicit-kubeconfig"
    assert fake_tools.run("kind", "create", "cluster", "--name", "lab", "--kubeconfig", str(explicit)).returncode == 0
    assert _contexts(explicit) == (["kind-lab"], "kind-lab")
    assert "kind-lab" not in _contexts(Path(os.environ["KUBECONFIG"]))[0]
    deleted = fake_tools.run("kind", "delete", "cluster", "--name", "lab", "--kubeconfig", str(explicit))
    assert deleted.returncode == 0
    assert deleted.stderr == 'Deleting cluster "lab" ...\nDeleted nodes: ["lab-control-plane"]\n'
    assert _contexts(explicit) == ([], "")
    assert fake_tools.run("kind", "get", "clusters").stderr == "No kind clusters found.\n"
    assert fake_tools.run("kind", "delete", "cluster", "--name", "lab").returncode == 0


def test_kind_writes_home_kubeconfig_when_kubeconfig_is_unset(fake_tools, tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(home)
    created = subprocess.run(["kind", "create", "cluster"], capture_output=True, text=True, env=env, timeout=60)
    assert created.returncode == 0, created.stderr
    assert _contexts(home / ".kube" / "config") == (["kind-kind"], "kind-kind")


def test_kind_load_docker_image_needs_the_image_locally(fake_tools):
    assert fake_tools.run("kind", "create", "cluster", "--name", "lab").returncode == 0
    missing = fake_tools.run("kind", "load", "docker-image", "kslab/model:dev", "--name", "lab")
    assert (missing.returncode, missing.stderr) == (1, 'ERROR: image: "kslab/model:dev" not present locally\n')
    pulled = fake_tools.run("docker", "pull", "kslab/model:dev")
    assert pulled.returncode == 0 and pulled.stdout.splitlines()[-1] == "docker.io/kslab/model:dev"
    loaded = fake_tools.run("kind", "load", "docker-image", "kslab/model:dev", "--name", "lab")
    assert loaded.returncode == 0
    assert 'not yet present on node "lab-control-plane", loading...' in loaded.stderr
    assert fake_tools.state("kind")["clusters"]["lab"]["loaded_images"] == ["kslab/model:dev"]
    exported = fake_tools.run("kind", "export", "logs", str(fake_tools.state_dir / "logs"), "--name", "lab")
    assert exported.stdout.strip() == str(fake_tools.state_dir / "logs")
    assert (fake_tools.state_dir / "logs" / "lab-control-plane" / "kubelet.log").is_file()


def test_docker_reports_versions_info_and_images(fake_tools):
    assert fake_tools.run("docker", "version", "--format", "{{.Server.Version}}").stdout == "28.4.0\n"
    fake_tools.set_docker_info(NCPU=4, MemTotal=8 * 1024 ** 3)
    info = json.loads(fake_tools.run("docker", "info", "--format", "{{json .}}").stdout)
    assert (info["NCPU"], info["MemTotal"], info["ServerVersion"]) == (4, 8 * 1024 ** 3, "28.4.0")
    missing = fake_tools.run("docker", "image", "inspect", "busybox")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1, "[]\n", "Error response from daemon: No such image: busybox\n")
    fake_tools.add_docker_image("busybox:1.36")
    found = fake_tools.run("docker", "image", "inspect", "-f", "{{ .Id }}", "busybox:1.36")
    assert found.returncode == 0 and found.stdout.startswith("sha256:")
    assert "busybox" in fake_tools.run("docker", "images", "--format", "{{.Repository}}:{{.Tag}}").stdout


def test_minikube_profile_lifecycle(fake_tools):
    started = fake_tools.run("minikube", "start", "-p", "lab", "--cpus", "4", "--memory", "8192",
                             "--driver", "docker", "--kubernetes-version", "v1.34.0")
    assert started.returncode == 0, started.stderr
    assert "🔥  Creating docker container (CPUs=4, Memory=8192MB) ..." in started.stdout
    assert _contexts(Path(os.environ["KUBECONFIG"]))[1] == "lab"
    status = json.loads(fake_tools.run("minikube", "status", "-p", "lab", "-o", "json").stdout)
    assert status == {"Name": "lab", "Host": "Running", "Kubelet": "Running", "APIServer": "Running",
                      "Kubeconfig": "Configured", "Worker": False}
    assert fake_tools.run("minikube", "ip", "-p", "lab").stdout == "192.168.49.2\n"
    profiles = json.loads(fake_tools.run("minikube", "profile", "list", "-o", "json").stdout)
    assert profiles["valid"][0]["Config"]["KubernetesConfig"]["KubernetesVersion"] == "v1.34.0"
    assert fake_tools.run("minikube", "version", "--short").stdout == "v1.38.1\n"
    listed = subprocess.run(["kubectl", "get", "ns", "default", "-o", "name"], capture_output=True, text=True)
    assert listed.stdout == "namespace/default\n"
    assert fake_tools.run("minikube", "delete", "-p", "lab").returncode == 0
    gone = fake_tools.run("minikube", "status", "-p", "lab")
    assert gone.returncode == 85 and 'Profile "lab" not found' in gone.stderr


def test_minikube_checks_docker_and_host_resources_first(fake_tools):
    fake_tools.set_docker_info(NCPU=2, MemTotal=4 * 1024 ** 3)
    cores = fake_tools.run("minikube", "start", "-p", "lab", "--cpus", "4")
    assert cores.returncode == 29
    assert "Exiting due to RSRC_INSUFFICIENT_CORES: Requested cpu count 4 is greater than the available cpus of 2" \
        in cores.stderr
    memory = fake_tools.run("minikube", "start", "-p", "lab", "--cpus", "2", "--memory", "8g")
    assert memory.returncode == 10 and "RSRC_OVER_ALLOC_MEM: Requested memory allocation 8192MB" in memory.stderr
    fake_tools.set_docker_down(True)
    down = fake_tools.run("minikube", "start", "-p", "lab")
    assert down.returncode == 63 and "PROVIDER_DOCKER_NOT_RUNNING" in down.stderr and DOCKER_DOWN in down.stderr
    assert fake_tools.state("minikube").get("profiles", {}) == {}
