"""Scenario parameters: what a file declares (a plain default, or a mapping with type, range and choices) and
how a `--set KEY=VALUE` is read and checked against it before anything touches a cluster.

A plain default (``canary_percent: 10``) keeps the old meaning: the value's type is the parameter's type, with
no range. A declaration (``canary_percent: {default: 10, type: int, min: 0, max: 100}``) adds the type
(int, number, bool, string, duration), ``min``/``max`` (numbers; seconds for a duration) and ``choices``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kslab.util.durations import duration_seconds

TYPES = ("int", "number", "bool", "string", "duration")
DECLARATION_KEYS = ("default", "type", "min", "max", "choices", "help")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


class ParamProblem(ValueError):
    """Why a declaration or a value does not fit; the caller adds the file or the --set it came from."""


@dataclass(frozen=True)
class ParamSpec:
    type: str
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    help: str | None = None

    def describe(self) -> str:
        """'int 0..100', 'duration >= 1', 'string: catalog, pvc'."""
        text = self.type
        if self.min is not None and self.max is not None:
            text += f" {self.min:g}..{self.max:g}"
        elif self.min is not None:
            text += f" >= {self.min:g}"
        elif self.max is not None:
            text += f" <= {self.max:g}"
        if self.choices:
            text += ": " + ", ".join(str(c) for c in self.choices)
        return text

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("type", self.type), ("min", self.min), ("max", self.max),
                                  ("choices", list(self.choices) if self.choices else None),
                                  ("help", self.help)) if v is not None}


def _inferred(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    return "string"


def _bound(declared: Mapping[str, Any], key: str) -> float | None:
    value = declared.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParamProblem(f'"{key}" must be a number, not {value!r}')
    return value


def declare(value: Any) -> tuple[Any, ParamSpec]:
    """A file's ``params.KEY`` entry as (default, spec); ParamProblem when it does not fit."""
    if not isinstance(value, Mapping):
        if not isinstance(value, str | int | float | bool):
            raise ParamProblem(f"{value!r} is not a string, number or boolean (or a mapping with default, type, "
                               "min, max, choices)")
        return value, ParamSpec(_inferred(value))
    unknown = [str(k) for k in value if k not in DECLARATION_KEYS]
    if unknown:
        raise ParamProblem(f'unknown key "{unknown[0]}" (a declaration has {", ".join(DECLARATION_KEYS)})')
    if "default" not in value:
        raise ParamProblem('a declaration needs a "default"')
    kind = value.get("type") or _inferred(value["default"])
    if kind not in TYPES:
        raise ParamProblem(f'type "{kind}" is not one of {", ".join(TYPES)}')
    choices = value.get("choices")
    if choices is not None and (not isinstance(choices, list) or not choices):
        raise ParamProblem('"choices" must be a non-empty list')
    spec = ParamSpec(kind, _bound(value, "min"), _bound(value, "max"), tuple(choices) if choices else None,
                     str(value["help"]) if value.get("help") is not None else None)
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        raise ParamProblem(f"min {spec.min:g} is above max {spec.max:g}")
    default = value["default"]
    if default is None or isinstance(default, Mapping | list):
        raise ParamProblem(f'"default": {default!r} is not a string, number or boolean')
    try:
        return check(parse(default, spec), spec), spec
    except ParamProblem as exc:
        raise ParamProblem(f'"default": {exc}') from None


def parse(value: Any, spec: ParamSpec) -> Any:
    """``value`` (a --set string or a file's scalar) as the spec's type; ParamProblem when it is not one."""
    text = str(value).strip()
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        if text.lower() in (*_TRUE, *_FALSE):
            return text.lower() in _TRUE
        raise ParamProblem(f"expected true or false, got {value!r}")
    if spec.type == "int":
        if isinstance(value, bool):
            raise ParamProblem(f"expected a whole number, got {value!r}")
        try:
            return value if isinstance(value, int) else int(text)
        except ValueError:
            raise ParamProblem(f"expected a whole number, got {value!r}") from None
    if spec.type == "number":
        if isinstance(value, bool):
            raise ParamProblem(f"expected a number, got {value!r}")
        try:
            number = value if isinstance(value, int | float) else float(text)
        except ValueError:
            raise ParamProblem(f"expected a number, got {value!r}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ParamProblem(f"expected a finite number, got {value!r}")
        return number
    if spec.type == "duration":
        if isinstance(value, bool) or duration_seconds(text) is None:
            raise ParamProblem(f"expected a duration like 30s, 2m or 500ms, got {value!r}")
        return value
    return value if isinstance(value, str) else text


def check(value: Any, spec: ParamSpec) -> Any:
    """``value`` (already of the spec's type) within its range and choices; returned unchanged."""
    if spec.choices and value not in spec.choices:
        raise ParamProblem(f"{value!r} is not one of {', '.join(str(c) for c in spec.choices)}")
    if spec.type in ("int", "number", "duration"):
        number = duration_seconds(str(value)) if spec.type == "duration" else float(value)
        unit = " s" if spec.type == "duration" else ""
        if spec.min is not None and number is not None and number < spec.min:
            raise ParamProblem(f"{value} is below the minimum {spec.min:g}{unit}")
        if spec.max is not None and number is not None and number > spec.max:
            raise ParamProblem(f"{value} is above the maximum {spec.max:g}{unit}")
    return value
