"""Which scenarios exist: the built-ins shipped with kslab, files in ./scenarios/, and --file paths."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kslab.errors import KslabError
from kslab.paths import scenarios_dir
from kslab.scenarios.loader import read_scenario, shown_path
from kslab.scenarios.schema import Scenario
from kslab.scenarios.validate import ScenarioFileError, did_you_mean

SUFFIXES = (".yaml", ".yml")
USER_DIR = Path("scenarios")
# `kslab lab` runs the built-ins in this order (others after, by name): raw-mode last, because it leaves
# the model in RawDeployment mode, which the Knative scenarios cannot patch (mode changes are rejected).
LAB_ORDER = ("smoke", "canary", "canary-rollback", "canary-standard", "canary-analysis", "autoscale", "cold-start",
             "latency-breakdown", "explainer", "raw-mode")


@dataclass(frozen=True)
class Found:
    path: Path
    origin: str  # built-in | user | file
    shown: str


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file()) \
        if directory.is_dir() else []


def discover(extra: Iterable[Path] = ()) -> list[Found]:
    """Built-ins, then ./scenarios/*.yaml, then ``extra`` files; one entry per real file."""
    seen: set[Path] = set()
    out: list[Found] = []
    builtin = scenarios_dir()
    candidates = [(p, "built-in", f"scenarios/{p.name}") for p in _files(builtin)]
    candidates += [(p, "user", shown_path(p)) for p in _files(USER_DIR)]
    candidates += [(Path(p), "file", shown_path(Path(p))) for p in extra]
    for path, origin, shown in candidates:
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        out.append(Found(path, origin, shown))
    return out


def list_scenarios(extra: Iterable[Path] = ()) -> list[dict[str, Any]]:
    """One row per file (an invalid file is listed with its error, so a typo never hides a scenario)."""
    rows = []
    for found in discover(extra):
        try:
            scenario = read_scenario(found.path, found.shown)
        except KslabError as exc:
            rows.append({"name": found.path.stem, "description": f"invalid: {exc.message}", "requires": {},
                         "source": found.origin, "file": found.shown})
            continue
        rows.append({"name": scenario.name, "description": scenario.description,
                     "requires": scenario.requires.to_dict(), "source": found.origin, "file": found.shown})
    return rows


def find_scenario(name_or_file: str, extra: Iterable[Path] = ()) -> Scenario:
    """A scenario by name (a user file shadows a built-in of the same name) or by path to a file."""
    as_path = Path(name_or_file)
    if as_path.suffix in SUFFIXES or "/" in name_or_file:
        if not as_path.is_file():
            raise ScenarioFileError(f"{name_or_file}: no such scenario file", "kslab scenario list shows them all")
        return read_scenario(as_path)
    matches: dict[str, Found] = {}
    for found in discover(extra):
        if found.path.stem == name_or_file or _declared_name(found) == name_or_file:
            matches[found.origin] = found
    chosen = matches.get("file") or matches.get("user") or matches.get("built-in")
    if chosen is None:
        names = sorted({f.path.stem for f in discover(extra)})
        raise ScenarioFileError(f"no scenario named {name_or_file!r}{did_you_mean(name_or_file, names)}; "
                                f"known: {', '.join(names)}", "kslab scenario list shows them all")
    return read_scenario(chosen.path, chosen.shown)


def _declared_name(found: Found) -> str | None:
    try:
        return read_scenario(found.path, found.shown).name
    except KslabError:
        return None


def unknown_names(names: Iterable[str], extra: Iterable[Path] = ()) -> list[str]:
    """The names among ``names`` that find_scenario would not find (a path counts when the file exists); a
    file's declared name is read only for a name that is no file's stem."""
    found = discover(extra)
    stems = {f.path.stem for f in found}
    unknown = []
    for name in names:
        if Path(name).suffix in SUFFIXES or "/" in name:
            if not Path(name).is_file():
                unknown.append(name)
        elif name not in stems and all(_declared_name(f) != name for f in found):
            unknown.append(name)
    return unknown


def known_names(extra: Iterable[Path] = ()) -> list[str]:
    """Every scenario name, as `kslab scenario list` shows them (file stems, sorted)."""
    return sorted({f.path.stem for f in discover(extra)})


def builtin_names() -> list[str]:
    """The built-in scenarios in lab order (LAB_ORDER, then the rest by name)."""
    names = [f.path.stem for f in discover() if f.origin == "built-in"]
    return sorted(names, key=lambda n: (LAB_ORDER.index(n) if n in LAB_ORDER else len(LAB_ORDER), n))


__all__ = ["Found", "Scenario", "builtin_names", "discover", "find_scenario", "known_names", "list_scenarios",
           "unknown_names"]
