"""What `kslab ... --help` shows besides each command's own text: the allowed values (or the form) of every
option instead of type placeholders like <str>, and a few examples at the end of every command's help.

Applied once to the click command tree Typer builds (``label``); nothing here runs a command.
"""

from __future__ import annotations

from typing import Any

from kslab.config.model import MODES, OUTPUTS, PROVIDERS

# Option (long name) -> what its value looks like. Choices are spelled a|b|c, forms in capitals.
METAVARS: dict[str, str] = {
    "--provider": "|".join(PROVIDERS), "--output": "|".join(OUTPUTS), "--mode": "|".join(MODES),
    "--protocol": "v1|v2", "--storage": "uri|pvc|s3", "--format": "md,junit,html|all",
    "--scenarios": "all|none|NAME,...", "--timeout": "DURATION", "--duration": "DURATION",
    "--warmup": "DURATION", "--concurrency": "N", "--requests": "N", "--workers": "N", "--pods": "N",
    "--batch": "N", "--port": "PORT", "--rate": "REQ/S", "--profile": "N,N,...@DURATION", "--url": "URL",
    "--body": "FILE", "--file": "FILE", "--config": "FILE", "--kubeconfig": "FILE", "--s3-credentials": "FILE",
    "--model-dir": "DIR", "--out": "DIR", "--set": "KEY=VALUE", "--image": "IMAGE", "--preload": "IMAGE",
    "--storage-uri": "URI", "--s3-endpoint": "HOST:PORT", "--s3-region": "REGION", "--runtime": "RUNTIME|auto",
    "--kserve-version": "VERSION", "--model-version": "VERSION", "--compare": "RUN-ID",
    "--instances": "JSON", "--pod": "POD", "--context": "CONTEXT", "--namespace": "NAMESPACE",
}
ARGUMENTS = {"name": "NAME", "run": "RUN-ID", "file": "FILE"}

# Command path (without "kslab") -> 1-3 examples; shown at the end of the command's help.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "version": ("kslab version -o json",),
    "up": ("kslab up", "kslab up --provider minikube", "kslab up --provider existing --context my-cluster"),
    "down": ("kslab down --yes", "kslab down --uninstall-stack --yes"),
    "status": ("kslab status", "kslab status --provider local -o json"),
    "doctor": ("kslab doctor --preflight", "kslab doctor sklearn-iris"),
    "lab": ("kslab lab --provider local", "kslab lab --ci --down", "kslab lab --scenarios canary,raw-mode"),
    "deploy": ("kslab deploy sklearn-iris --provider local", "kslab deploy --mode standard --timeout 5m"),
    "undeploy": ("kslab undeploy sklearn-iris", "kslab undeploy sklearn-iris --provider local"),
    "predict": ("kslab predict sklearn-iris", "kslab predict --protocol v2 --instances '[[6.8,2.8,4.8,1.4]]'"),
    "smoke": ("kslab smoke", "kslab smoke --provider local -o json"),
    "model": ("kslab model build sklearn-iris --model-version v2",),
    "model build": ("kslab model build", "kslab model build sklearn-iris --model-version v2 --out ./models"),
    "port-forward": ("kslab port-forward sklearn-iris", "kslab port-forward --provider local"),
    "load": ("kslab load -c 20 --duration 30s", "kslab load --rate 500 --duration 1m --ci",
             "kslab load --profile 1,5,10,20@10s -o json"),
    "scenario": ("kslab scenario list", "kslab scenario canary --set canary_percent=20"),
    "scenario list": ("kslab scenario list -o json",),
    "scenario run": ("kslab scenario run canary --set canary_percent=20", "kslab scenario run ./my.yaml"),
    "scenario validate": ("kslab scenario validate scenarios/my.yaml",),
    "report": ("kslab report --list", "kslab report --format html", "kslab report --compare RUN-ID"),
}


def _no_type(ctx: Any) -> None:
    return None


def _label_params(command: Any) -> None:
    for param in command.params:
        if getattr(param, "metavar", None) is not None or getattr(param, "is_flag", False):
            continue
        if param.param_type_name == "argument":
            param.metavar = ARGUMENTS.get(param.name or "", (param.name or "value").upper())
            param.display_type_rich = _no_type  # the row reads "NAME  help", not "NAME <str>  help"
            continue
        long = next((o for o in param.opts if o.startswith("--")), None)
        if long in METAVARS:
            param.metavar = METAVARS[long]
        elif long is not None:
            param.metavar = long.lstrip("-").upper().replace("-", "_")


def label(command: Any, path: str = "") -> None:
    """Give every option a readable metavar and every command its examples, recursively."""
    _label_params(command)
    examples = EXAMPLES.get(path)
    if examples and not command.epilog:
        command.epilog = "\b\nExamples:\n" + "\n".join(f"  {line}" for line in examples)
    for name, sub in (getattr(command, "commands", None) or {}).items():
        label(sub, f"{path} {name}".strip())
