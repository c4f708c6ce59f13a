"""Where a scenario's model versions come from.

- ``catalog``: the hosted URIs of manifests/models/catalog.yaml (KServe's public sample bucket), checked from
  this machine before they are applied (kslab.deploy.model_uri).
- ``pvc``: kslab's own builds (`kslab model build NAME --version V`, trained on sklearn's bundled iris data)
  copied into the PVC kslab-models at ``<isvc>-<version>``, so the lab does not depend on a bucket. Each version
  is built (or an intact earlier build reused) and copied once per scenario run.
"""

from __future__ import annotations

from kslab.models.catalog import catalog_model
from kslab.scenarios.context import ScenarioContext


def model_uri(ctx: ScenarioContext, name: str, version: str, source: str, timeout: float) -> str:
    """The storageUri for ``name``'s model ``version`` from ``source`` (copying it into the PVC if needed)."""
    if source == "catalog":
        return catalog_model(name).storage_uri_of(version)
    from kslab.deploy.storage import PVC_NAME, copy_model_to_pvc
    from kslab.modelbuild.builder import ensure_build

    path = f"{name}-{version}"
    uri = f"pvc://{PVC_NAME}/{path}"
    if uri in ctx.prepared:
        return uri
    build = ensure_build(ctx.session.state_dir, name, version)
    ctx.progress("model", "copy", f"{name} {version} ({build.estimator}) -> {uri}")
    from kslab.kube.ownership import ensure_namespace

    kube = ctx.kube()
    ensure_namespace(kube, ctx.namespace)
    copy_model_to_pvc(kube, ctx.access(), build.model_dir, path, ctx.namespace, timeout,
                      lambda _step, state, detail: ctx.progress("model", state, detail))
    ctx.prepared.add(uri)
    return uri
