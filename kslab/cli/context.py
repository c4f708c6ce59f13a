"""What every command receives: validated settings, the environment read once, and the consoles to write to.

Each command builds its one Session with ``cli.session(**flags)`` and hands it to the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

from kslab.session import Environment, Session

if TYPE_CHECKING:
    from rich.console import Console

    from kslab.config.model import Settings


@dataclass
class CliContext:
    settings: Settings
    env: Environment = field(default_factory=Environment.from_process)
    _out: Console | None = field(default=None, repr=False)
    _err: Console | None = field(default=None, repr=False)

    def override(self, **values: object) -> Settings:
        """Settings with command-level flags applied (None means 'not given'), validated again."""
        from kslab.config.loader import deep_merge
        from kslab.config.model import Settings, from_mapping

        given = {k: v for k, v in values.items() if v is not None}
        if not given:
            return self.settings
        return from_mapping(Settings, deep_merge(self.settings.to_dict(), given))

    def session(self, **values: object) -> Session:
        """The command's Session: settings with its flags applied (see override), this process's environment."""
        return Session(self.override(**values), self.env)

    @property
    def no_color(self) -> bool:
        return not self.settings.color or self.env.no_color

    @property
    def out(self) -> Console:
        if self._out is None:
            from rich.console import Console

            self._out = Console(no_color=self.no_color, highlight=False, soft_wrap=True)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, no_color=self.no_color, highlight=False, soft_wrap=True)
        return self._err


def current(ctx: typer.Context) -> CliContext:
    """The CliContext the root callback stored on the click context."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliContext):
        raise RuntimeError("kslab: command run without the root callback")
    return root.obj
