"""cluster_facts: what the run record's ``cluster`` key says, read from the (fake) API server."""

from __future__ import annotations

from kslab.kube.client import Kube
from kslab.lab.cluster_facts import cluster_facts
from tests.fakecluster.resources import NODES


def test_facts_of_a_two_node_cluster(fake_cluster):
    worker = fake_cluster.store.find(NODES, None, fake_cluster.node_name)
    worker = {"metadata": {"name": "kslab-worker", "labels": {}},
              "status": {**worker["status"], "allocatable": {"cpu": "3500m", "memory": "8Gi", "pods": "110"},
                         "conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]}}
    fake_cluster.store.create(NODES, None, worker, keep_status=True)
    facts = cluster_facts(Kube(str(fake_cluster.kubeconfig_path), backoff=0.01))
    assert facts["kubernetes"] == Kube(str(fake_cluster.kubeconfig_path)).version()["git_version"]
    assert facts["kubernetes"].startswith("v1.")
    assert (facts["nodes"], facts["nodes_ready"]) == (2, 1)
    assert facts["kubelet_versions"] == [fake_cluster.kubernetes_version]
    assert (facts["allocatable_cpu"], facts["allocatable_memory"]) == ("11500m", "24Gi")
    control = next(n for n in facts["node_list"] if n["name"] == fake_cluster.node_name)
    assert control["roles"] == ["control-plane"] and control["ready"] == "True" and control["cpu"] == "8"
