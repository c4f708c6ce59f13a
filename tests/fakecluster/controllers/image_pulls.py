"""The kubelet's image pulls: which images a node can get, and ErrImagePull → ImagePullBackOff when it cannot.

A container's image is available when it is on the node (``cluster.node.has_image``: ``load_image``d by a
test, or loaded with the fake ``kind load docker-image`` / ``minikube image load``) or when a public
registry would serve it ("published upstream"): the repositories the installed stack uses (images in
tests/fakecluster/tools/charts.yaml, Knative's component and queue-proxy images, ClusterServingRuntime
images and every ``image`` in the inferenceservice-config ConfigMap), plus ``settings.public_images``
(Docker Hub official images tests use). Matching is by repository, any tag. The pull policy counts as
on a node: ``Never`` needs the image on the node (ErrImageNeverPull), ``Always`` needs a registry, and
``IfNotPresent`` (the default unless the tag is ``latest`` or missing) takes either.

When the image cannot be pulled the container waits with reason ``ErrImagePull``, then, after
``settings.image_pull_backoff`` (doubling, at most ``image_pull_backoff_max``), ``ImagePullBackOff``;
the kubelet's Events go with each step (Pulling, Failed, BackOff). After each back-off the pull is tried
again, so loading the image onto the node later lets the pod start. ``settings.image_pulls = "any"``
turns the check off (every image pulls).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from ..resources import CLUSTER_RUNTIMES, CONFIGMAPS, PODS
from .knative_operator import COMPONENTS

Obj = dict[str, Any]
KUBELET = "kubelet"
CHARTS = Path(__file__).resolve().parents[1] / "tools" / "charts.yaml"
KNATIVE_REGISTRY = "gcr.io/knative-releases/"
# The gateway chart's "image: auto": Istio's injector swaps in proxyv2, which this fake does not do.
ISTIO_PROXY, ISTIO_AUTO = "docker.io/istio/proxyv2", "auto"
_CHART_IMAGE = re.compile(r"""["']?image["']?\s*:\s*["']?([A-Za-z0-9][^"'\s,{}]*)""")


def repository(ref: str) -> str:
    """The normalised repository of an image reference: nginx:1.28 -> docker.io/library/nginx."""
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    first = name.split("/", 1)[0]
    if "/" not in name:
        return f"docker.io/library/{name}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{name}"
    return name


def full_reference(ref: str) -> str:
    """What containerd resolves: kslab/load:0.1.0 -> docker.io/kslab/load:0.1.0 (tag latest when none)."""
    base = repository(ref)
    if "@" in ref:
        return base + "@" + ref.split("@", 1)[1]
    last = ref.rsplit("/", 1)[-1]
    return base + ":" + (last.split(":", 1)[1] if ":" in last else "latest")


@cache
def chart_repositories() -> frozenset[str]:
    """Repositories of every image the fake charts install (templated tags dropped)."""
    found = {repository(m.group(1)) for m in _CHART_IMAGE.finditer(CHARTS.read_text(encoding="utf-8"))
             if m.group(1) != "auto"}
    found |= {repository(KNATIVE_REGISTRY + path) for _, _, path in COMPONENTS.values()}
    found |= {repository(KNATIVE_REGISTRY + "knative.dev/serving/cmd/queue"), ISTIO_PROXY, repository(ISTIO_AUTO)}
    return frozenset(found)


def _config_images(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [str(v) for k, v in value.items() if k == "image" and isinstance(v, str)] + [
            i for v in value.values() for i in _config_images(v)]
    return []


def stack_repositories(store: Any) -> set[str]:
    """Repositories the installed stack names: ClusterServingRuntime and inferenceservice-config images."""
    found: set[str] = set()
    for runtime in store.list(CLUSTER_RUNTIMES)[0]:
        for container in (runtime.get("spec") or {}).get("containers") or []:
            if container.get("image"):
                found.add(repository(container["image"]))
    for config in store.list(CONFIGMAPS)[0]:
        if config["metadata"]["name"] != "inferenceservice-config":
            continue
        for text in (config.get("data") or {}).values():
            try:
                found.update(repository(i) for i in _config_images(json.loads(text)))
            except ValueError:
                continue
    return found


def pull_policy(container: Obj) -> str:
    image = str(container.get("image", ""))
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    default = "IfNotPresent" if "@" in image or (":" in last and not last.endswith(":latest")) else "Always"
    return str(container.get("imagePullPolicy") or default)


def _not_served(ref: str) -> str:
    full = full_reference(ref)
    if full.startswith("docker.io/"):
        cause = ("pull access denied, repository does not exist or may require authorization: server message: "
                 "insufficient_scope: authorization failed")
    else:
        cause = f"{full}: not found"
    return (f"rpc error: code = NotFound desc = failed to pull and unpack image \"{full}\": failed to resolve "
            f"reference \"{full}\": {cause}")


class ImagePulls:
    """The kubelet's image-pull step for one container: ``ready`` says go, else the container is put on hold."""

    def __init__(self, mgr: Any) -> None:
        self.mgr = mgr
        self.store = mgr.store

    def published(self, ref: str) -> bool:
        repo = repository(ref)
        public = {repository(p) for p in self.mgr.settings.public_images}
        return repo in chart_repositories() or repo in public or repo in stack_repositories(self.store)

    def failure(self, container: Obj) -> tuple[str, str] | None:
        """(waiting reason, message) when the container's image cannot be had; None when it can."""
        if self.mgr.settings.image_pulls == "any":
            return None
        image = str(container.get("image", ""))
        policy = pull_policy(container)
        on_node = self.mgr.node.has_image(image)
        if policy == "Never":
            return None if on_node else (
                "ErrImageNeverPull", f'Container image "{image}" is not present with pull policy of Never')
        if (on_node and policy != "Always") or self.published(image):
            return None
        return "ErrImagePull", _not_served(image)

    def hold(self, pod: Obj, key: str, index: int, failure: tuple[str, str], retry: Callable[[], None],
             attempt: int = 0) -> None:
        """Put container ``index`` of ``key`` (containerStatuses/initContainerStatuses) on ErrImagePull, then
        ImagePullBackOff after the back-off; then call ``retry`` (which asks ``failure`` again)."""
        meta = pod["metadata"]
        namespace, name, uid = meta["namespace"], meta["name"], str(meta["uid"])
        kind = "initContainers" if key == "initContainerStatuses" else "containers"
        container = pod["spec"][kind][index]
        image, path = container.get("image", ""), f"spec.{kind}{{{container['name']}}}"
        reason, message = failure
        events = self.mgr.events
        if reason == "ErrImagePull":
            events.record(pod, "Normal", "Pulling", f'Pulling image "{image}"', KUBELET, path)
            events.record(pod, "Warning", "Failed", f'Failed to pull image "{image}": {message}', KUBELET, path)
        else:
            events.record(pod, "Warning", "ErrImageNeverPull", message, KUBELET, path)
        events.record(pod, "Warning", "Failed", f"Error: {reason}", KUBELET, path)
        self._wait(namespace, name, uid, key, index, reason, message)
        if reason != "ErrImagePull":
            return  # the kubelet never retries a Never policy by itself
        delay = min(self.mgr.settings.image_pull_backoff * 2 ** attempt, self.mgr.settings.image_pull_backoff_max)

        def back_off() -> None:
            live = self._live(namespace, name, uid)
            if live is None:
                return
            events.record(live, "Normal", "BackOff", f'Back-off pulling image "{image}"', KUBELET, path)
            events.record(live, "Warning", "Failed", "Error: ImagePullBackOff", KUBELET, path)
            self._wait(namespace, name, uid, key, index, "ImagePullBackOff",
                       f'Back-off pulling image "{image}": ErrImagePull: {message}')
            self.mgr.after(delay, lambda: self._again(namespace, name, uid, key, index, retry, attempt + 1),
                           key=f"pod/{uid}/pull/{key}/{index}/{attempt}/retry")
        self.mgr.after(delay, back_off, key=f"pod/{uid}/pull/{key}/{index}/{attempt}")

    def _again(self, namespace: str, name: str, uid: str, key: str, index: int, retry: Callable[[], None],
               attempt: int) -> None:
        live = self._live(namespace, name, uid)
        if live is None:
            return
        kind = "initContainers" if key == "initContainerStatuses" else "containers"
        failure = self.failure(live["spec"][kind][index])
        if failure is None:
            retry()
        else:
            self.hold(live, key, index, failure, retry, attempt)

    def _live(self, namespace: str, name: str, uid: str) -> Obj | None:
        pod = self.store.find(PODS, namespace, name)
        if pod is None or str(pod["metadata"].get("uid")) != uid or pod["metadata"].get("deletionTimestamp"):
            return None
        return pod

    def _wait(self, namespace: str, name: str, uid: str, key: str, index: int, reason: str, message: str) -> None:
        def waiting(obj: Obj) -> None:
            if str(obj["metadata"].get("uid")) != uid or obj["metadata"].get("deletionTimestamp"):
                return
            statuses = (obj.get("status") or {}).get(key) or []
            if index < len(statuses):
                statuses[index].update(state={"waiting": {"reason": reason, "message": message}}, ready=False,
                                       started=False)
        self.store.mutate(PODS, namespace, name, waiting, subresource="status", manager=KUBELET)
