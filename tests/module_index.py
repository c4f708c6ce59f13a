"""docs/modules.md: every module of kslab/ with the first sentence of its docstring, by package.

``python -m tests.module_index`` rewrites the page from the code; tests/test_module_index.py fails when a module is
added, moved or removed without it (descriptions may be edited by hand: only the module paths are compared).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "modules.md"
ROW = re.compile(r"^\| `(kslab/[^`]+\.py)` \|", re.MULTILINE)


def modules() -> dict[str, str]:
    """Repo-relative module path -> the first sentence of its docstring ('' when it has none)."""
    found = {}
    for path in sorted((ROOT / "kslab").rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        paragraph = " ".join(doc.split("\n\n")[0].split())
        sentence = re.split(r"(?<=\.)\s", paragraph, maxsplit=1)[0]
        found[path.relative_to(ROOT).as_posix()] = sentence.rstrip(":;")
    return found


def listed(text: str) -> set[str]:
    return set(ROW.findall(text))


def render() -> str:
    lines = ["# Where each concern lives: every module", "",
             "One line per module of `kslab/`, from its docstring; `docs/architecture.md` explains the layers.",
             "Regenerate with `python -m tests.module_index` after adding, moving or removing a module.", ""]
    package = None
    for path, sentence in modules().items():
        folder = path.rpartition("/")[0]
        if folder != package:
            package = folder
            lines += ["", f"## `{folder}/`", "", "| Module | Holds |", "|---|---|"]
        lines.append(f"| `{path}` | {sentence.replace('|', '/')} |")
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


if __name__ == "__main__":
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)} ({len(modules())} modules)")
