"""Which provider the settings name: the one place that maps a provider name to its class."""

from __future__ import annotations

from kslab.config.model import PROVIDERS, Settings
from kslab.errors import UsageError
from kslab.models.environment import Environment
from kslab.models.stack import StackRelease
from kslab.providers.base import Provider
from kslab.providers.state import ProviderState


def make_provider(settings: Settings, env: Environment, release: StackRelease | None = None,
                  state: ProviderState | None = None, preload: tuple[str, ...] = ()) -> Provider:
    """The provider ``settings.provider`` names; ``release`` defaults to the settings' KServe release, ``state``
    to the one under ``env``'s state dir."""
    if settings.provider == "local":
        from kslab.providers.local import LocalProvider

        return LocalProvider(settings, env.state_dir)
    if settings.provider == "existing":
        from kslab.providers.existing import ExistingCluster

        return ExistingCluster(settings)
    if settings.provider not in PROVIDERS:
        raise UsageError(f"unknown provider {settings.provider!r}", "use --provider " + "|".join(PROVIDERS))
    if release is None:
        from kslab.stack.versions import load_matrix

        release = load_matrix().release(settings.kserve_version)
    state = state or ProviderState(env.state_dir)
    if settings.provider == "kind":
        from kslab.providers.kind import KindProvider

        return KindProvider(settings, release, state, preload)
    from kslab.providers.minikube import MinikubeProvider

    return MinikubeProvider(settings, release, state)
