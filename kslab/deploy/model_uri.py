"""Refuse to deploy a public model URI that does not exist (kslab.storage.public_uri asks where it can)."""

from __future__ import annotations

from collections.abc import Callable

from kslab.config.model import Settings
from kslab.errors import CheckFailed
from kslab.storage.public_uri import MISSING, NOT_CHECKED, UNKNOWN, UriCheck, check_public_uri

Observer = Callable[[str, str, str], None]
_CHECKED: dict[tuple[str, str], UriCheck] = {}  # one answer per URI and API per process


def require_model_uri(settings: Settings, uri: str, name: str, observe: Observer | None = None) -> UriCheck:
    """Check ``uri`` (cached per process); raise CheckFailed (exit 1) when it is missing, with the way out."""
    say = observe or (lambda *_: None)
    if not settings.storage.check_public_uris:
        return UriCheck(uri, NOT_CHECKED, None, "storage.check_public_uris is false")
    key = (uri, settings.storage.gcs_api)
    check = _CHECKED.get(key)
    if check is None:
        check = _CHECKED[key] = check_public_uri(uri, settings.storage.gcs_api)  # unknown too: ask once a command
    if check.result == MISSING:
        say("model-uri", "failed", f"{uri}: {check.detail}")
        raise CheckFailed(f"the model {uri} does not exist ({check.detail}); the storage-initializer would fail "
                          "to fetch it",
                          f"use a model kslab builds and copies into a PVC: 'kslab model build {name}' then "
                          f"'kslab deploy {name} --storage pvc --model-dir DIR' (the canary scenarios: "
                          "--set model_source=pvc), or pass --storage-uri of a model that exists")
    if check.result == UNKNOWN:
        say("model-uri", "skip", f"could not check {uri} from this machine ({check.detail}); the cluster must "
                                 "reach it")
    elif check.result != NOT_CHECKED:
        say("model-uri", "ready", f"{uri}: {check.detail}")
    return check
