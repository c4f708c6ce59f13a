"""Images kslab puts on kind/minikube nodes: its own (built from this checkout) and the lab's runtime images.

``kslab up`` builds and loads every kslab image and preloads the runtime images of the chosen KServe
release (manifests/images.yaml), skipping what the node already has. ``kslab load --in-cluster`` asks for
its image just in time (``kslab_image_for``). An existing cluster cannot be loaded: the image's config key
(e.g. ``load.image``) must name an image in a registry the cluster can pull from.
"""

from __future__ import annotations

from typing import Any

from kslab.config.model import Settings
from kslab.errors import CheckFailed, UsageError
from kslab.models.cluster import LineSink
from kslab.providers.images import NodeImages, docker_build, docker_pull
from kslab.session import Session
from kslab.stack.images import KslabImage, load_images


def _quiet(_: str) -> None:
    return None


def put_kslab_image(nodes: NodeImages, image: KslabImage, timeout: float, on_line: LineSink | None = None) -> str:
    """Build ``image`` with docker and load it onto the node, unless the node has it: "present" or "loaded"."""
    say = on_line or _quiet
    if nodes.on_node(image.tag):
        say(f"{image.tag}: already on the node")
        return "present"
    if not image.dockerfile_path.is_file():
        raise UsageError(f"cannot build {image.tag}: {image.dockerfile} is not here (kslab builds its images from a "
                         "source checkout)", f"build it from a checkout and load it ({nodes.how_to_load}), or set "
                         f"{image.config_key} to an image the cluster can pull")
    say(f"{image.tag}: building from {image.dockerfile}")
    docker_build(image.tag, image.dockerfile_path, image.context_path, timeout, on_line)
    say(f"{image.tag}: loading onto the node")
    nodes.load(image.tag, on_line)
    return "loaded"


def preload_runtime_images(nodes: NodeImages, images: list[str], timeout: float,
                           on_line: LineSink | None = None) -> list[dict[str, Any]]:
    """docker pull + load each image the node lacks; a failure is a warning (the node can still pull it)."""
    say = on_line or _quiet
    results: list[dict[str, Any]] = []
    for image in images:
        if nodes.on_node(image):
            say(f"{image}: already on the node")
            results.append({"image": image, "action": "present"})
            continue
        say(f"{image}: pulling")
        error = docker_pull(image, timeout)
        if error is None:
            try:
                say(f"{image}: loading onto the node")
                nodes.load(image)
                results.append({"image": image, "action": "loaded"})
                continue
            except CheckFailed as exc:
                error = exc.message
        say(f"warning: {image} not preloaded ({error}); the node will pull it itself on the first deploy")
        results.append({"image": image, "action": "warning", "error": error})
    return results


def put_images(settings: Settings, nodes: NodeImages, kserve: str, on_line: LineSink | None = None
               ) -> dict[str, Any]:
    """What ``kslab up`` does on kind/minikube: kslab images built and loaded, runtime images preloaded."""
    say = on_line or _quiet
    catalog = load_images()
    built: list[dict[str, Any]] = []
    for image in catalog.kslab_images:
        try:
            built.append({"image": image.tag, "action": put_kslab_image(nodes, image, settings.timeouts.install,
                                                                         on_line)})
        except (CheckFailed, UsageError) as exc:
            say(f"warning: {image.tag} not loaded ({exc.message}); {exc.hint or ''}".rstrip("; "))
            built.append({"image": image.tag, "action": "warning", "error": exc.message})
    runtime = preload_runtime_images(nodes, catalog.runtime_images(kserve), settings.timeouts.install, on_line)
    return {"kslab": built, "runtime": runtime}


def existing_cluster_error(image: KslabImage) -> UsageError:
    return UsageError(f"{image.config_key} is not set: kslab cannot load its {image.image} image onto an existing "
                      "cluster's nodes",
                      f"build it (docker build -t REGISTRY/{image.image}:TAG -f {image.dockerfile} {image.context}), "
                      f"push it to a registry the cluster can pull from, and set {image.config_key} in kslab.yaml "
                      f"(or KSLAB_{image.config_key.upper().replace('.', '__')}); see docs/in-cluster-load.md")


def kslab_image_for(session: Session, name: str, on_line: LineSink | None = None) -> str:
    """The tag of kslab image ``name`` after making sure the cluster's node has it (kind/minikube only)."""
    image = load_images().kslab_image(name)
    nodes = session.provider.node_images()
    if nodes is None:
        raise existing_cluster_error(image)
    put_kslab_image(nodes, image, session.settings.timeouts.install, on_line)
    return image.tag
