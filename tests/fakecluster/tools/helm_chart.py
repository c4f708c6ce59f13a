"""Charts for the fake helm: the DATA table in charts.yaml, chart-reference resolution, values, rendering.

A chart entry lists where it can come from (``sources``: a classic repo URL, an ``oci://`` reference,
or a URL pattern with ``{version}``), its versions, default values, per-version value overrides and
the objects it renders. Objects are plain Kubernetes objects whose strings may hold a tiny subset of
Go-template actions: ``{{ .Release.Name }}``, ``{{ .Release.Namespace }}``, ``{{ .Chart.Version }}``,
``{{ .Chart.AppVersion }}``, ``{{ .Values.a.b }}`` with the pipes ``trimPrefix "x"``, ``default X``
and ``toJson``. A string that is exactly one action keeps the value's type (ints, bools, maps); actions
on other roots (KServe's own ``{{.Name}}``) are left verbatim. Object keys ``_if`` (a value path, or a
list of them, one of which must be truthy) and ``_min_version`` / ``_max_version`` gate an object;
they are removed before the object is sent. An ``objects`` item may itself be a list (a YAML alias).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CHARTS_FILE = Path(__file__).with_name("charts.yaml")
Obj = dict[str, Any]


class ChartError(Exception):
    """Helm's message for a chart that cannot be located or rendered."""


@dataclass
class Chart:
    name: str
    version: str
    app_version: str
    description: str
    values: Obj
    objects: list[Obj]
    notes: str = ""
    version_values: list[Obj] = field(default_factory=list)


@cache
def table() -> Obj:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses the table ~10x faster
    return yaml.load(CHARTS_FILE.read_text(encoding="utf-8"), Loader=loader)


def known_repo_urls() -> set[str]:
    return {s["repo"].rstrip("/") for c in table()["charts"] for s in c["sources"] if "repo" in s}


def version_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.\-+]", text.lstrip("v"))[:3])


def _in_range(entry: Obj, version: str) -> bool:
    lo, hi = entry.get("min_version"), entry.get("max_version")
    return (not lo or version_key(version) >= version_key(lo)) and (not hi or version_key(version) <= version_key(hi))


def _build(entry: Obj, version: str | None) -> Chart:
    chosen = version or entry["version"]
    app_version = entry.get("appVersion") or chosen
    if entry.get("app_version_follows_version"):
        app_version = chosen
    return Chart(name=entry["name"], version=chosen, app_version=str(app_version),
                 description=entry.get("description", ""), values=copy.deepcopy(entry.get("values") or {}),
                 objects=_flatten(copy.deepcopy(entry.get("objects") or [])), notes=entry.get("notes", ""),
                 version_values=copy.deepcopy(entry.get("version_values") or []))


def _flatten(items: list[Any]) -> list[Obj]:
    """Object lists may nest (a YAML alias to a shared list); flatten them."""
    flat: list[Obj] = []
    for item in items:
        flat.extend(_flatten(item) if isinstance(item, list) else [item])
    return flat


def locate(ref: str, version: str | None, repos: dict[str, str]) -> tuple[Chart, str | None]:
    """(chart, OCI reference pulled or None) for a chart reference, as helm's LocateChart would find it."""
    ref = ref.strip()
    entries = table()["charts"]
    if ref.startswith("oci://"):
        base, tag = ref, ""
        if ":" in ref.rsplit("/", 1)[-1]:
            base, tag = ref.rsplit(":", 1)
        version = version or tag or None
        for entry in entries:
            for source in entry["sources"]:
                if source.get("oci") == base:
                    chosen = version or entry["version"]
                    if not _in_range(entry, chosen):
                        raise ChartError(f"{base[len('oci://'):]}:{chosen}: not found")
                    return _build(entry, chosen), f"{base[len('oci://'):]}:{chosen}"
        raise ChartError(f"{base[len('oci://'):]}:{version or 'latest'}: not found")
    if ref.startswith(("http://", "https://")):
        for entry in entries:
            for source in entry["sources"]:
                pattern = source.get("url")
                if not pattern:
                    continue
                regex = "^" + re.escape(pattern).replace(re.escape("{version}"), r"(?P<v>[0-9][0-9.]*)", 1)
                regex = regex.replace(re.escape("{version}"), r"(?P=v)") + "$"
                match = re.match(regex, ref)
                if match and _in_range(entry, match.group("v")):
                    return _build(entry, "v" + match.group("v") if source.get("v_prefix") else match.group("v")), None
        raise ChartError(f"failed to fetch {ref} : 404 Not Found")
    if ref.startswith(("/", ".")):
        raise ChartError(f'path "{ref}" not found')
    if "/" not in ref:
        raise ChartError(f"non-absolute URLs should be in form of repo_name/path_to_chart, got: {ref}")
    repo_name, chart_name = ref.split("/", 1)
    if repo_name not in repos:
        raise ChartError(f"repo {repo_name} not found")
    url = repos[repo_name].rstrip("/")
    for entry in entries:
        if entry["name"] == chart_name and any(s.get("repo", "").rstrip("/") == url for s in entry["sources"]):
            if version and not _in_range(entry, version):
                break
            return _build(entry, version), None
    detail = f"no chart version found for {chart_name}-{version}" if version else "no chart name found"
    raise ChartError(f"chart \"{chart_name}\" matching {version or ''} not found in {repo_name} index. "
                     f"(try 'helm repo update'): {detail}")


# -- values -----------------------------------------------------------------------------------------
def deep_merge(base: Obj, override: Obj) -> Obj:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, depth, i = [], "", 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current += text[i:i + 2]
            i += 2
            continue
        depth += ch == "{"
        depth -= ch == "}"
        if ch == sep and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
        i += 1
    parts.append(current)
    return parts


def _typed(value: str) -> Any:
    """helm strvals typing for --set: true/false/null, int64 (no leading zero), else string."""
    if value.lower() == "true":
        return True
    if value.lower() == "false":
        return False
    if value == "null":
        return None
    if re.fullmatch(r"-?(0|[1-9][0-9]*)", value) and -(2 ** 63) <= int(value) < 2 ** 63:
        return int(value)
    return value


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_set(expr: str, values: Obj, as_string: bool = False) -> None:
    """Apply one --set / --set-string argument (a=b,c.d=e, x[0]=y, key\\.with\\.dots=v, l={a,b})."""
    for assignment in _split_unescaped(expr, ","):
        if not assignment:
            continue
        key, sep, raw = assignment.partition("=")
        if not sep:
            raise ChartError(f"failed parsing --set data: key \"{key}\" has no value")
        if raw.startswith("{") and raw.endswith("}"):
            value: Any = [(_unescape(v) if as_string else _typed(_unescape(v)))
                          for v in _split_unescaped(raw[1:-1], ",") if v != ""]
        else:
            value = _unescape(raw) if as_string else _typed(_unescape(raw))
        target: Any = values
        parts = [_unescape(p) for p in _split_unescaped(key, ".")]
        for n, part in enumerate(parts):
            name, index = part, None
            match = re.fullmatch(r"(.*)\[(\d+)\]", part)
            if match:
                name, index = match.group(1), int(match.group(2))
            last = n == len(parts) - 1
            if index is None:
                if last:
                    target[name] = value
                else:
                    if not isinstance(target.get(name), dict):
                        target[name] = {}
                    target = target[name]
                continue
            items = target.setdefault(name, [])
            while len(items) <= index:
                items.append(None if last else {})
            if last:
                items[index] = value
            else:
                if not isinstance(items[index], dict):
                    items[index] = {}
                target = items[index]


def effective_values(chart: Chart, user: Obj) -> Obj:
    values = copy.deepcopy(chart.values)
    for rule in chart.version_values:
        if version_key(chart.version) < version_key(rule.get("below", "v999")) and \
                version_key(chart.version) >= version_key(rule.get("from", "v0")):
            values = deep_merge(values, rule["values"])
    return deep_merge(values, user)


# -- rendering --------------------------------------------------------------------------------------
_ROOTS = ("Release", "Chart", "Values")


def _actions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, expression) of each {{ ... }} action; quotes inside an action are respected."""
    found, i = [], 0
    while (start := text.find("{{", i)) != -1:
        j, quoted = start + 2, False
        while j < len(text) - 1:
            if text[j] == '"' and text[j - 1] != "\\":
                quoted = not quoted
            elif not quoted and text.startswith("}}", j):
                break
            j += 1
        else:
            break
        found.append((start, j + 2, text[start + 2:j].strip(" -")))
        i = j + 2
    return found


def _ours(expr: str) -> bool:
    """True for actions this renderer evaluates; others (e.g. KServe's {{.Name}}) stay verbatim."""
    head = expr.split("|")[0].strip()
    return head.startswith('"') or head.lstrip(".").split(".")[0] in _ROOTS


def _path(context: Obj, expr: str) -> Any:
    value: Any = context
    for part in expr.lstrip(".").split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _evaluate(context: Obj, expr: str) -> Any:
    stages = [s.strip() for s in expr.split("|")]
    value = _path(context, stages[0]) if stages[0].startswith(".") else json.loads(stages[0])
    for stage in stages[1:]:
        fn, _, arg = stage.partition(" ")
        arg = arg.strip()
        argument = _path(context, arg) if arg.startswith(".") else (json.loads(arg) if arg else None)
        if fn == "trimPrefix":
            value = value[len(argument):] if isinstance(value, str) and value.startswith(argument) else value
        elif fn == "default":
            value = value if value not in (None, "", [], {}) else argument
        elif fn == "toJson":
            value = json.dumps(value, separators=(",", ":"))
        else:
            raise ChartError(f'template: function "{fn}" not defined')
    return value


def _render_value(node: Any, context: Obj) -> Any:
    if isinstance(node, dict):
        return {_render_value(k, context): _render_value(v, context) for k, v in node.items()}
    if isinstance(node, list):
        return [_render_value(v, context) for v in node]
    if not isinstance(node, str) or "{{" not in node:
        return node
    actions = [a for a in _actions(node) if _ours(a[2])]
    if len(actions) == 1 and actions[0][0] == 0 and actions[0][1] == len(node):
        return _evaluate(context, actions[0][2])
    for start, end, expr in reversed(actions):
        value = _evaluate(context, expr)
        node = node[:start] + ("" if value is None else str(value)) + node[end:]
    return node


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", [], {})


def render(chart: Chart, release: str, namespace: str, values: Obj) -> list[Obj]:
    """The chart's objects for this release, gated and with template actions evaluated."""
    context = {"Release": {"Name": release, "Namespace": namespace, "Service": "Helm"},
               "Chart": {"Name": chart.name, "Version": chart.version, "AppVersion": chart.app_version},
               "Values": values}
    rendered = []
    for obj in chart.objects:
        gates = obj.get("_if", [])
        if gates and not any(_truthy(_evaluate(context, g)) for g in ([gates] if isinstance(gates, str) else gates)):
            continue
        if "_min_version" in obj and version_key(chart.version) < version_key(obj["_min_version"]):
            continue
        if "_max_version" in obj and version_key(chart.version) > version_key(obj["_max_version"]):
            continue
        body = {k: v for k, v in obj.items() if not k.startswith("_")}
        rendered.append(_render_value(body, context))
    return rendered


def manifest_text(chart: Chart, objects: list[Obj]) -> str:
    """The release manifest helm stores: one '# Source:' document per object."""
    docs = []
    for obj in objects:
        source = f"{chart.name}/templates/{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        docs.append(f"---\n# Source: {source}\n" + yaml.safe_dump(obj, sort_keys=False))
    return "".join(docs)


def parse_manifest(text: str) -> list[Obj]:
    return [d for d in yaml.safe_load_all(text or "") if isinstance(d, dict)]
