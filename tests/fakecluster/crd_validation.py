"""Structural-schema checks of custom resources, as kube-apiserver's apiextensions code makes them.

The schemas are data (crd_schemas.py), chosen by the live KServe version. What a write goes through:

- Decode (store admission phase ``decode``): fields the schema does not declare, and nulls, are pruned.
  How the request asked for unknown fields to be handled (``fieldValidation``) is decided in rest.py with
  :meth:`CrdValidation.unknown_fields`: Strict -> 400 "strict decoding error: unknown field ..." (kubectl
  sends Strict), Warn (the default) -> a ``Warning`` header per field, Ignore -> silent.
  Server-side apply first converts the patch to a typed object, which refuses undeclared fields and
  scalars of the wrong type with a 500 "failed to create typed patch object" whatever fieldValidation says
  (kubernetes/kubernetes@v1.34.0:staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/
  structuredmerge.go returns a plain error, hence 500: kubernetes/kubernetes#122480, #139253).
- Schema validation (phase ``schema``, after the mutating webhooks, before the validating ones):
  required fields, types, enums, bounds, patterns -> 422 Invalid with one cause per violation, reasons and
  messages as kubernetes/kubernetes@v1.34.0:staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/
  validation/validation.go turns kube-openapi results into field errors.
  Not modelled: validation ratcheting of unchanged invalid fields on update, status validation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .admission import phase
from .crd_schemas import SCHEMAS, Node, parse_version
from .errors import ApiError
from .resources import ResourceType

Obj = dict[str, Any]
DEFAULT_KSERVE = "0.20.0"  # the KServe version the fake runs when no controllers say otherwise


@dataclass(frozen=True)
class Cause:
    reason: str  # FieldValueRequired | FieldValueNotSupported | FieldValueInvalid | FieldValueTypeInvalid
    message: str
    field: str


def json_type(value: Any) -> str:
    """The JSON type name kube-openapi reports for ``value``."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def _shown(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) \
        else str(value)


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _children(node: Node, value: Any, path: str) -> list[tuple[Node, Any, str]]:
    """(schema, value, path) of the declared children of an object or array ``value``."""
    if node.get("type") == "object" and isinstance(value, dict):
        if "properties" in node:
            return [(node["properties"][k], v, _child(path, k)) for k, v in value.items() if k in node["properties"]]
        if "values" in node:
            return [(node["values"], v, _child(path, k)) for k, v in value.items()]
    if node.get("type") == "array" and isinstance(value, list) and "items" in node:
        return [(node["items"], v, f"{path}[{i}]") for i, v in enumerate(value)]
    return []


def prune(node: Node, value: Any, path: str = "") -> list[str]:
    """Drop undeclared fields and nulls from ``value`` in place; returns the paths of the unknown ones."""
    dropped: list[str] = []
    if node.get("type") == "object" and isinstance(value, dict):
        for key in list(value):
            declared = "properties" not in node or key in node["properties"]
            if value[key] is None or not declared:
                del value[key]
                if not declared:
                    dropped.append(_child(path, key))
    for child, sub, sub_path in _children(node, value, path):
        dropped += prune(child, sub, sub_path)
    return dropped


_SMD_GOT = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool",
            "array": "[]interface {}", "object": "map[string]interface {}"}


def typed_errors(node: Node, value: Any, path: str = "") -> list[str]:
    """What converting an apply patch to a typed object refuses (structured-merge-diff's messages)."""
    if value is None:
        return []
    kind, got = node.get("type"), json_type(value)
    if kind == "integer" and got not in ("integer", "number"):
        return [f".{path}: expected numeric (int or float), got {_SMD_GOT[got]}"]
    if kind == "string" and got != "string":
        return [f".{path}: expected string, got {_shown(value)}"]
    if kind == "boolean" and got != "boolean":
        return [f".{path}: expected boolean, got {_shown(value)}"]
    if kind in ("object", "array") and got != kind:
        return [f".{path}: expected {'map' if kind == 'object' else 'list'}, got {_shown(value)}"]
    errors: list[str] = []
    if kind == "object" and "properties" in node:
        errors += [f".{_child(path, k)}: field not declared in schema" for k in value if k not in node["properties"]]
    for child, sub, sub_path in _children(node, value, path):
        errors += typed_errors(child, sub, sub_path)
    return errors


def validate(node: Node, value: Any, path: str = "") -> list[Cause]:
    """Schema violations of ``value`` (already pruned) as the apiserver's field causes."""
    kind, got = node.get("type"), json_type(value)
    if kind and got != kind and not (kind == "number" and got == "integer"):
        return [Cause("FieldValueTypeInvalid", f'Invalid value: "{got}": {path} in body must be of type {kind}: '
                                               f'"{got}"', path)]
    causes: list[Cause] = []
    if "enum" in node and value not in node["enum"]:
        allowed = ", ".join(json.dumps(v) for v in node["enum"])
        causes.append(Cause("FieldValueNotSupported", f"Unsupported value: {_shown(value)}: supported values: "
                                                      f"{allowed}", path))
    bounds = (("minimum", lambda lim: value < lim, "greater"), ("maximum", lambda lim: value > lim, "less"))
    for key, broken, word in bounds:
        if key in node and broken(node[key]):
            causes.append(Cause("FieldValueInvalid", f"Invalid value: {_shown(value)}: {path} in body should be "
                                                     f"{word} than or equal to {node[key]}", path))
    if "pattern" in node and not re.search(node["pattern"], value):
        causes.append(Cause("FieldValueInvalid", f"Invalid value: {_shown(value)}: {path} in body should match "
                                                 f"'{node['pattern']}'", path))
    if "min_items" in node and len(value) < node["min_items"]:
        causes.append(Cause("FieldValueInvalid", f"Invalid value: {len(value)}: {path} in body should have at "
                                                 f"least {node['min_items']} items", path))
    if kind == "object":
        causes += [Cause("FieldValueRequired", "Required value", _child(path, name))
                   for name in node.get("required") or [] if name not in value]
    for child, sub, sub_path in _children(node, value, path):
        causes += validate(child, sub, sub_path)
    return causes


def invalid(rt: ResourceType, name: str, causes: list[Cause]) -> ApiError:
    """422 Invalid with the apiserver's message: one cause inline, several as a bracketed list."""
    errors = [f"{c.field}: {c.message}" for c in causes]
    summary = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    return ApiError(422, "Invalid", f'{rt.kind}.{rt.group} "{name}" is invalid: {summary}',
                    {"name": name, "group": rt.group, "kind": rt.kind,
                     "causes": [{"reason": c.reason, "message": c.message, "field": c.field} for c in causes]})


class CrdValidation:
    """The schemas of the CRDs the lab installs, for the KServe version ``version()`` names (read live)."""

    def __init__(self, version: Callable[[], str | None]) -> None:
        self._version = version

    def schema(self, rt: ResourceType) -> Node | None:
        build = SCHEMAS.get(rt.key)
        return build(parse_version(self._version() or DEFAULT_KSERVE)) if build else None

    def hooks(self) -> list[Any]:
        return [self.decode, self.check]

    @phase("decode")
    def decode(self, op: str, rt: ResourceType, new: Obj, old: Obj | None) -> Obj:
        node = self.schema(rt)
        if node is not None and op in ("CREATE", "UPDATE"):
            prune(node, new)
        return new

    @phase("schema")
    def check(self, op: str, rt: ResourceType, new: Obj, old: Obj | None) -> Obj:
        node = self.schema(rt)
        if node is None or op not in ("CREATE", "UPDATE"):
            return new
        causes = validate(node, new)
        if causes:
            raise invalid(rt, str((new.get("metadata") or {}).get("name") or ""), causes)
        return new

    def unknown_fields(self, rt: ResourceType, body: Any) -> list[str]:
        """The fields of a request body the schema does not declare (without changing the body)."""
        node = self.schema(rt)
        if node is None or not isinstance(body, dict):
            return []
        return prune(node, json.loads(json.dumps(body)))

    def apply_errors(self, rt: ResourceType, namespace: str, name: str, body: Any) -> ApiError | None:
        """The 500 a server-side apply gets when its patch does not type-check against the schema."""
        node = self.schema(rt)
        errors = typed_errors(node, body) if node is not None and isinstance(body, dict) else []
        if not errors:
            return None
        where = f"{namespace}/{name}; {rt.api_version}, Kind={rt.kind}"
        detail = errors[0] if len(errors) == 1 else "\n".join(["errors:", *(f"  {e}" for e in errors)])
        return ApiError(500, "", f"failed to create typed patch object ({where}): {detail}")
