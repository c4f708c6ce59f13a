"""kslab up / down / status: thin wrappers over kslab.lab services."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kslab.cli.context import current
from kslab.cli.options import OutputOption, ProviderOption
from kslab.cli.output import emit
from kslab.cli.recording import Observer, run_recorded
from kslab.errors import KslabError, UsageError

ClusterProviderOption = Annotated[str | None, typer.Option("--provider", help="kind, minikube or existing.",
                                                           metavar="kind|minikube|existing", show_default=False)]


def up(
    ctx: typer.Context,
    provider: ClusterProviderOption = None,
    mode: Annotated[str | None, typer.Option(help="knative (serverless) or standard (raw Deployments).",
                                             show_default=False)] = None,
    kserve_version: Annotated[str | None, typer.Option("--kserve-version", help="A row of "
                              "manifests/stack/versions.yaml, e.g. 0.20.0.", show_default=False)] = None,
    preload: Annotated[list[str] | None, typer.Option(help="Image to `kind load docker-image` after creating "
                                                      "the cluster (repeatable).", show_default=False)] = None,
    merge_kubeconfig: Annotated[bool, typer.Option("--merge-kubeconfig", help="Also add the cluster's context to "
                                                   "your default kubeconfig (~/.kube/config or $KUBECONFIG) and "
                                                   "make it current. Default: kslab keeps its own file.")] = False,
    output: OutputOption = None,
) -> None:
    """Create a cluster and install the KServe stack.

    Preflight (docker, kind/minikube, kubectl, helm, CPU/memory, inotify), then the cluster, then
    cert-manager, Istio, IngressClass istio, Knative Serving (knative mode) and KServe with its
    runtimes, each waited for until ready. Running it again on a ready cluster changes nothing.
    Every step is recorded in reports/<run-id>/run.json.
    """
    from kslab.lab.cluster import UpResult, bring_up
    from kslab.models.run_record import RunRecord
    from kslab.providers.registry import make_provider
    from kslab.session import Session

    cli = current(ctx)
    settings = cli.override(provider=provider, mode=mode, kserve_version=kserve_version)
    session = Session(settings, cli.env, provider=make_provider(settings, cli.env, preload=tuple(preload or ())))
    if not session.provider.has_cluster:
        raise UsageError("'kslab up' needs a cluster provider", "use --provider kind|minikube|existing")
    title = f"kslab up ({settings.provider}, KServe {settings.kserve_version}, {settings.mode} mode)"

    def work(_record: RunRecord, view: Observer) -> UpResult:
        return bring_up(session, observer=view,
                        on_check=lambda c: view("preflight", "ok" if c.ok else c.severity, f"{c.name}: {c.detail}"))

    result, record = run_recorded(cli, session, "up", title, work)
    merged = None
    if merge_kubeconfig and result.access.kubeconfig:
        from kslab.providers.kubeconfig import default_kubeconfig_path
        from kslab.providers.kubeconfig import merge_kubeconfig as merge

        merged = str(merge(Path(result.access.kubeconfig), default_kubeconfig_path(session.env.environ)))
    summary = {
        "provider": result.provider, "cluster": result.cluster, "created": result.created_cluster,
        "kubeconfig": result.access.kubeconfig, "context": result.access.context,
        "server_version": result.server_version,
        "merged_into": merged, "components": {r.name: r.action for r in result.components},
        "run_record": str(record.path),
    }
    emit(cli, summary, output, title="kslab up")


def down(
    ctx: typer.Context,
    provider: ClusterProviderOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    uninstall_stack: Annotated[bool, typer.Option("--uninstall-stack", help="On an existing cluster, also "
                                                  "uninstall the stack kslab installed.")] = False,
) -> None:
    """Delete what kslab created, and nothing else.

    kind/minikube: the cluster, if kslab created it. Existing cluster: the lab namespace if kslab
    created it; with --uninstall-stack also the Helm releases and namespaces of the stack.
    """
    from kslab.lab.teardown import plan_teardown, run_teardown

    cli = current(ctx)
    session = cli.session(provider=provider)
    plan = plan_teardown(session, uninstall_stack)
    if plan.empty:
        cli.err.print("nothing to delete: kslab created nothing here", highlight=False)
        return
    cli.err.print("kslab down will:\n" + "\n".join(f"  - {line}" for line in plan.describe()), highlight=False)
    if not yes:
        if not session.env.stdin_isatty:
            raise UsageError("refusing to delete without confirmation", "re-run with --yes")
        if not typer.confirm("Proceed?", default=False):
            raise typer.Abort()
    run_teardown(session, plan, on_line=lambda line: cli.err.print(line, highlight=False, markup=False))
    cli.err.print("done", highlight=False)


def status(ctx: typer.Context, provider: ProviderOption = None, output: OutputOption = None) -> None:
    """Show the cluster, the stack and InferenceServices (provider local: the model servers running here).

    Provider, cluster, context, Kubernetes version, each component with its version and readiness,
    KServe's default deployment mode, and every InferenceService with Ready and URL.
    """
    from kslab.lab.status import cluster_status, local_status

    cli = current(ctx)
    session = cli.session(provider=provider)
    if not session.provider.has_cluster:
        data = local_status(session)
        if (output or cli.settings.output) != "table":
            emit(cli, data, output)
        elif data["servers"]:
            emit(cli, data["servers"], "table", title=f"local model servers ({data['state_dir']})")
        else:
            cli.err.print(f"no local model server is running (state dir {data['state_dir']})", highlight=False,
                          markup=False)
        return
    data = cluster_status(session)
    if (output or cli.settings.output) != "table":
        emit(cli, data, output)
        return
    header = {k: v for k, v in data.items() if k not in ("components", "inference_services")}
    emit(cli, header, "table", title="cluster")
    emit(cli, data["components"], "table", title="stack")
    if data["inference_services"]:
        emit(cli, data["inference_services"], "table", title="InferenceServices")
    not_ready = [c["name"] for c in data["components"] if not c["ready"]]
    if not_ready:
        raise KslabError(f"not ready: {', '.join(not_ready)}", "run 'kslab up' or 'kslab doctor'")
