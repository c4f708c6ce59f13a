"""The codec every record entry shares: read a JSON object into a frozen dataclass, checking each field's type
against the dataclass's annotation, and write it back exactly as it was read.

A field that is absent is None (a killed run's record stops mid-way, and the run schema asks readers to
tolerate missing optional keys); a field listed in ``REQUIRED`` must be there. A present field of the wrong
type is an :class:`EntryError` naming it by its path in the record (``steps[3].observations.series[0].t``).
Keys the dataclass does not know are kept in ``extra``; ``key_order`` remembers the keys as they were read, so
``to_dict`` gives back the same JSON, key for key and in the same order. An entry built by code (no
``key_order``) writes its fields in declaration order, leaving out the ``OMIT_IF_NONE`` ones that are None.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, ClassVar, Self

from kslab.errors import UsageError

META = ("extra", "key_order")  # the codec's own fields, never JSON keys


class EntryError(UsageError):
    """A run-record entry does not have the shape its type says; the message names the field."""


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:39] + '…'}"


def _is_entry(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, Entry)


def _expected(kind: Any) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", type(None): "null"}
    if kind in names:
        return names[kind]
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_expected(k) for k in typing.get_args(kind))
    if origin is tuple:
        return "a list"
    if origin in (dict, Mapping) or _is_entry(kind):
        return "an object"
    return str(kind)


def _wrong(kind: Any, value: Any, where: str) -> EntryError:
    return EntryError(f"{where}: expected {_expected(kind)}, got {_describe(value)}")


def _is_scalar(kind: Any, value: Any) -> bool:
    if kind in (int, float) and isinstance(value, bool):
        return False
    return isinstance(value, int | float) if kind is float else isinstance(value, kind)


def _check_list(kind: Any, value: Any, where: str) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise _wrong(kind, value, where)
    item = typing.get_args(kind)[0]
    return tuple(_check(item, v, f"{where}[{i}]") for i, v in enumerate(value))


def _check_mapping(kind: Any, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _wrong(kind, value, where)
    item = typing.get_args(kind)[1]
    return {str(k): _check(item, v, f"{where}.{k}") for k, v in value.items()}


def _check(kind: Any, value: Any, where: str) -> Any:
    """``value`` as a field of type ``kind``: entries and lists of them decoded, everything else as it is (an int
    stays an int where a number is allowed, so the JSON written back is the JSON read)."""
    origin = typing.get_origin(kind)
    if kind is Any:
        return value
    if origin in (types.UnionType, typing.Union):
        return _check_union(typing.get_args(kind), value, where)
    if origin is tuple:
        return _check_list(kind, value, where)
    if origin in (dict, Mapping):
        return _check_mapping(kind, value, where)
    if _is_entry(kind):
        return kind.from_dict(value, where)
    if _is_scalar(kind, value):
        return value
    raise _wrong(kind, value, where)


def _check_union(options: tuple[Any, ...], value: Any, where: str) -> Any:
    if value is None and type(None) in options:
        return None
    others = [o for o in options if o is not type(None)]
    if len(others) == 1:  # X | None: a nested field's error names that field
        try:
            return _check(others[0], value, where)
        except EntryError as exc:
            if not exc.message.startswith(f"{where}: "):
                raise
    else:
        for option in others:
            try:
                return _check(option, value, where)
            except EntryError:
                continue
    raise EntryError(f"{where}: expected {' or '.join(_expected(o) for o in options)}, got {_describe(value)}")


def _plain(value: Any) -> Any:
    """An entry's field as JSON: nested entries written out, tuples as lists."""
    if isinstance(value, Entry):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@cache
def _fields(cls: type) -> dict[str, Any]:
    """JSON key -> annotated type, in declaration order (the codec's own fields left out)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name not in META}


def json_fields(cls: type[Entry]) -> tuple[str, ...]:
    """The JSON keys an entry type reads and writes."""
    return tuple(_fields(cls))


@dataclasses.dataclass(frozen=True)
class Entry:
    """Base of the record entries (frozen dataclasses); subclasses declare their JSON keys as fields."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset()
    OMIT_IF_NONE: ClassVar[frozenset[str]] = frozenset()
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict, kw_only=True, repr=False)
    key_order: tuple[str, ...] = dataclasses.field(default=(), kw_only=True, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any, where: str = "entry") -> Self:
        if not isinstance(data, Mapping):
            raise EntryError(f"{where}: expected an object, got {_describe(data)}")
        fields = _fields(cls)
        missing = sorted(cls.REQUIRED - set(data))
        if missing:
            raise EntryError(f"{where}.{missing[0]}: missing (a {cls.__name__} needs it)")
        values = {name: None if name not in data else _check(kind, data[name], f"{where}.{name}")
                  for name, kind in fields.items()}
        extra = {k: v for k, v in data.items() if k not in fields}
        return cls(**values, extra=extra, key_order=tuple(data))

    def to_dict(self) -> dict[str, Any]:
        fields = _fields(type(self))
        extra = self.extra
        order = self.key_order or (
            *(n for n in fields if n not in self.OMIT_IF_NONE or getattr(self, n) is not None), *extra)
        return {key: _plain(getattr(self, key)) if key in fields else extra[key] for key in order
                if key in fields or key in extra}
