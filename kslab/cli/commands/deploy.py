"""kslab deploy / undeploy: parse flags, call kslab.deploy (or the local runtime), render the result."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kslab.cli.context import CliContext, current
from kslab.cli.options import (
    LAB_MODEL,
    ModelArg,
    OutputOption,
    ProviderOption,
    TimeoutOption,
    duration_option,
)
from kslab.cli.output import emit
from kslab.cli.recording import run_recorded
from kslab.errors import UsageError

if TYPE_CHECKING:
    from kslab.local.deploy import LocalRuntime
    from kslab.session import Session



def _local_only(flags: dict[str, Any]) -> None:
    given = [flag for flag, value in flags.items() if value is not None]
    if given:
        raise UsageError(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} only to a cluster; "
                         "provider local serves the model from this machine",
                         "drop them, or use --provider kind|minikube|existing")


def deploy(
    ctx: typer.Context,
    name: ModelArg = LAB_MODEL,
    mode: Annotated[str | None, typer.Option(help="knative (serverless, default from config) or standard "
                                             "(RawDeployment).", show_default=False)] = None,
    protocol: Annotated[str | None, typer.Option(help="v1 or v2 (protocolVersion; default v1).",
                                                 show_default=False)] = None,
    runtime: Annotated[str | None, typer.Option(help="(Cluster)ServingRuntime name (default: the catalog's, "
                                                "kserve-sklearnserver), or 'auto' to let KServe choose.",
                                                show_default=False)] = None,
    storage: Annotated[str | None, typer.Option(help="uri (the catalog's gs:// sample or --storage-uri), pvc "
                                                "(copy --model-dir into a PVC) or s3 (--storage-uri s3://... with "
                                                "a credentials Secret).", show_default=False)] = None,
    storage_uri: Annotated[str | None, typer.Option("--storage-uri", help="Model location (gs://, s3://, "
                                                    "https://, ...).", show_default=False)] = None,
    model_dir: Annotated[Path | None, typer.Option("--model-dir", help="Local model directory for --storage pvc "
                                                   "(one .joblib/.pkl file).", show_default=False)] = None,
    s3_endpoint: Annotated[str | None, typer.Option("--s3-endpoint", help="S3/MinIO host:port for --storage s3.",
                                                    show_default=False)] = None,
    s3_credentials: Annotated[Path | None, typer.Option("--s3-credentials", help="File with AWS_ACCESS_KEY_ID=... "
                                                        "and AWS_SECRET_ACCESS_KEY=... lines (default: those "
                                                        "environment variables).", show_default=False)] = None,
    s3_region: Annotated[str, typer.Option("--s3-region", help="S3 region.")] = "us-east-1",
    s3_https: Annotated[bool, typer.Option("--s3-https", help="The S3 endpoint speaks HTTPS.")] = False,
    timeout: TimeoutOption = None,
    model_version: Annotated[str, typer.Option("--model-version", help="Local build to serve with --provider "
                                               "local (v1: SVC, v2: LogisticRegression).")] = "v1",
    skip_lint: Annotated[bool, typer.Option("--skip-lint", help="Apply without checking runtime, mode and "
                                            "resources against the cluster first.")] = False,
    provider: ProviderOption = None,
    output: OutputOption = None,
) -> None:
    """Apply an InferenceService and wait until Ready.

    Renders manifests/isvc/inferenceservice.yaml for the model, lints it against the cluster (runtime,
    protocol, deployment mode, node resources), applies it server-side (field manager kslab) into the
    namespace, and shows its conditions live until Ready. On a failure or timeout it names the stuck
    layer (manifests/diagnosis/signatures.yaml). Every step goes into reports/<run-id>/run.json.
    With provider local it starts the KServe model server on 127.0.0.1 instead.
    """
    cli = current(ctx)
    timeout_s = duration_option(timeout)  # checked before anything starts, whichever provider
    session = cli.session(provider=provider, mode=mode)
    settings = session.settings
    if session.provider.runtime is not None:
        _local_only({"--protocol": protocol, "--runtime": runtime, "--storage": storage,
                     "--storage-uri": storage_uri, "--model-dir": model_dir, "--s3-endpoint": s3_endpoint})
        _deploy_local(cli, session, session.provider.runtime, name, model_version, output)
        return
    from kslab.deploy.request import DeployRequest, S3Options
    from kslab.deploy.service import deploy as deploy_isvc

    s3 = S3Options(s3_endpoint or "", s3_credentials, s3_region, s3_https) if (s3_endpoint or storage == "s3") \
        else None
    request = DeployRequest(name=name, mode=settings.mode, protocol=protocol or "v1", runtime=runtime,
                            storage=storage or "uri", storage_uri=storage_uri, model_dir=model_dir, s3=s3,
                            timeout=timeout_s or float(settings.timeouts.deploy),
                            lint=not skip_lint).validate()
    result, record = run_recorded(
        cli, session, "deploy", f"kslab deploy {name} ({settings.mode} mode, namespace {settings.namespace})",
        lambda _record, observer: deploy_isvc(session, request, observer))
    data = {**result.to_dict(), "run_record": str(record.path)}
    if (output or settings.output) != "table":
        emit(cli, data, output)
        return
    emit(cli, {k: v for k, v in data.items() if k not in ("conditions", "timeline")}, "table", title="deployed")
    emit(cli, result.conditions, "table", title="conditions")


def _deploy_local(cli: CliContext, session: Session, runtime: LocalRuntime, name: str, version: str,
                  output: str | None) -> None:
    status, record = run_recorded(cli, session, "deploy", f"kslab deploy {name} {version} (local runtime)",
                                  lambda rec, _observer: runtime.deploy(name, version, record=rec))
    emit(cli, {**status.to_dict(), "run_record": str(record.path)}, output, title="deployed (local)")


def undeploy(ctx: typer.Context, name: ModelArg, timeout: TimeoutOption = None, provider: ProviderOption = None,
             output: OutputOption = None) -> None:
    """Delete an InferenceService kslab deployed, and wait until it is gone.

    Refuses one kslab did not deploy (no app.kubernetes.io/managed-by=kslab label). Also deletes the
    s3 credentials Secret/ServiceAccount kslab made for it; the shared models PVC stays.
    """
    cli = current(ctx)
    timeout_s = duration_option(timeout)
    session = cli.session(provider=provider)
    settings = session.settings
    local = session.provider.runtime
    if local is not None:
        stopped = local.undeploy(name)
        emit(cli, {"name": name, "provider": session.provider.provider,
                   "action": "stopped" if stopped else "absent"}, output)
        return
    from kslab.cli.progress import ProgressView
    from kslab.deploy.service import undeploy as undeploy_isvc

    with ProgressView(cli.err, f"kslab undeploy {name} (namespace {settings.namespace})") as view:
        result = undeploy_isvc(session, name, timeout_s or float(settings.timeouts.deploy), view)
    if result["action"] == "absent":
        cli.err.print(f"nothing to delete: no InferenceService {name} in namespace {settings.namespace}",
                      highlight=False, markup=False)
    emit(cli, result, output, title="undeployed")
