"""kslab port-forward: a 127.0.0.1 forward to an InferenceService, kept open until Ctrl-C."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING, Annotated

import typer

from kslab.cli.context import current
from kslab.cli.options import LAB_MODEL, ModelArg, ProviderOption

if TYPE_CHECKING:
    from kslab.models.endpoint import Endpoint


def port_forward(
    ctx: typer.Context,
    name: ModelArg = LAB_MODEL,
    port: Annotated[int | None, typer.Option("--port", min=1, max=65535, help="Local port on 127.0.0.1 "
                                             "(default: a free one).", show_default=False)] = None,
    pod: Annotated[str | None, typer.Option("--pod", help="Forward to this pod's model server port 8080 "
                                            "instead of the service.", show_default=False)] = None,
    provider: ProviderOption = None,
) -> None:
    """Forward 127.0.0.1 to an InferenceService until Ctrl-C.

    Knative mode goes through the Istio gateway (svc/istio-ingressgateway:80, with the Host header of
    the InferenceService's URL); Standard mode goes to svc/NAME-predictor:80. Prints the URL, the Host
    header and a curl to paste; a forward that dies is restarted on the same port. With the local
    provider it prints the local runtime's URL.
    """
    cli = current(ctx)
    provider = cli.session(provider=provider).provider
    if not provider.has_cluster:  # the local runtime already listens on 127.0.0.1: nothing to forward
        with provider.endpoint(name, port=port, pod=pod) as endpoint:  # says why --port/--pod do not apply
            _print_usage(endpoint)
        return
    try:
        with provider.forwarded(name, port=port, pod=pod,
                       on_event=lambda message: cli.err.print(message, highlight=False)) as found:
            _print_usage(found.endpoint)
            forward = found.forward
            cli.err.print(f"forwarding {forward.url} -> {forward.target.describe()}; Ctrl-C to stop", highlight=False)
            while not forward.wait_failed(0.5):
                pass
            if forward.failure is not None:
                raise forward.failure
    except KeyboardInterrupt:
        cli.err.print("port-forward stopped", highlight=False)
        from kslab.util.signals import TERMINATING, exit_code, pending

        if pending() in TERMINATING:  # Ctrl-C is how one ends it (exit 0); SIGTERM/SIGHUP keep their 143/129
            raise typer.Exit(exit_code()) from None


def _print_usage(endpoint: Endpoint) -> None:
    print(f"URL: {endpoint.base_url}")
    print(f"Host header: {endpoint.host or '(none needed)'}")
    print(f"curl: {curl_command(endpoint)}", flush=True)


def curl_command(endpoint: Endpoint) -> str:
    """A ready-to-paste predict request with the catalog's first sample (a readiness GET when there is none)."""
    from kslab.errors import UsageError
    from kslab.models.catalog import catalog_model

    headers = [arg for key, value in endpoint.headers().items() for arg in ("-H", f"{key}: {value}")]
    try:
        instances = catalog_model(endpoint.model_name).samples[0].instances
    except (UsageError, IndexError):
        instances = None
    base, name = endpoint.base_url, endpoint.model_name
    if instances is None:
        path = f"/v1/models/{name}" if "v1" in endpoint.protocols else f"/v2/models/{name}/ready"
        return shlex.join(["curl", "-sS", *headers, base + path])
    if "v1" in endpoint.protocols:
        url, body = f"{base}/v1/models/{name}:predict", {"instances": instances}
    else:
        url = f"{base}/v2/models/{name}/infer"
        body = {"inputs": [{"name": "input-0", "shape": [len(instances), len(instances[0])], "datatype": "FP32",
                            "data": instances}]}
    return shlex.join(["curl", "-sS", *headers, "-H", "Content-Type: application/json", "-d", json.dumps(body), url])
