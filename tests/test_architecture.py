"""House rules that code review would otherwise have to remember: layers, module size, lazy imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "kslab"
# Upper layers may import lower ones, never the reverse (style anchors: kopf's import contracts).
LAYERS = [
    ("kslab.cli",),
    ("kslab.lab", "kslab.scenarios", "kslab.report", "kslab.doctor", "kslab.deploy"),  # services
    ("kslab.kube", "kslab.providers", "kslab.portforward", "kslab.inference", "kslab.load", "kslab.stack",
     "kslab.storage", "kslab.local", "kslab.modelbuild", "kslab.explainer", "kslab.session"),  # adapters
    ("kslab.config", "kslab.models", "kslab.util", "kslab.errors", "kslab.exitcodes", "kslab.paths"),
]


def _layer(module: str) -> int | None:
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def test_no_module_imports_a_higher_layer():
    offences = []
    for name, path in _modules():
        own = _layer(name)
        if own is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                layer = _layer(target)
                if layer is not None and layer < own:
                    offences.append(f"{name} imports {target}")
    assert offences == []


def _imports(name: str, path: Path, modules: set[str]) -> set[str]:
    """Every kslab module ``name`` imports, anywhere in the file (lazy and TYPE_CHECKING imports included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & modules


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def _import_graph() -> dict[str, set[str]]:
    paths = dict(_modules())
    return {name: _imports(name, path, set(paths)) - {name} for name, path in paths.items()}


def _subpackage(module: str) -> str:
    return ".".join(module.split(".")[:2])  # kslab.lab.cluster -> kslab.lab; kslab.errors stays


def test_no_package_cycles():
    """No two kslab subpackages import each other, directly or around a circle (lazy imports count too): a
    cycle means a value type or a switch lives in the wrong package."""
    packages: dict[str, set[str]] = {}
    for name, targets in _import_graph().items():
        packages.setdefault(_subpackage(name), set()).update(
            t for t in map(_subpackage, targets) if t != _subpackage(name))
    assert _cycles(packages) == []


def test_no_module_import_circles():
    assert _cycles(_import_graph()) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_modules_stay_small():
    too_long = {name: n for name, path in _modules() if (n := len(path.read_text().splitlines())) > 400}
    assert too_long == {}


def test_package_never_imports_the_test_fakes():
    for name, path in _modules():
        assert "tests.fakecluster" not in path.read_text(), name


def test_cli_startup_does_not_import_heavy_clients():
    code = ("import sys, kslab.cli.main; "
            "print(','.join(m for m in ('kubernetes', 'requests', 'sh', 'tenacity', 'rich.table', 'matplotlib', "
            "'kserve', 'sklearn', 'hdrh', 'jsonschema', 'prometheus_client') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_nothing_shipped_cites_files_outside_the_repository():
    """Users get kslab/, manifests/, scenarios/, docs/, images/ and the README: every source they cite is upstream
    (repo@tag:path, listed in docs/upstream-sources.md), never notes that live beside this checkout."""
    root = PACKAGE.parent
    paths = [root / "README.md"] + [p for d in ("kslab", "manifests", "scenarios", "docs", "images")
                                    for p in (root / d).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    offences = [f"{p.relative_to(root)}: {needle}" for p in paths
                for needle in ("shared/reference", "../shared", "facts §", "kserve-lab-facts")
                if needle in p.read_text(encoding="utf-8", errors="replace")]
    assert offences == []
