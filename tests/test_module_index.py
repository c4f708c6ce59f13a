"""docs/modules.md names every module of kslab/ and nothing that is gone (tests/module_index.py writes it)."""

from __future__ import annotations

from tests.module_index import PAGE, listed, modules, render


def test_the_module_list_names_every_module_and_no_stale_one() -> None:
    on_page, in_tree = listed(PAGE.read_text(encoding="utf-8")), set(modules())
    missing = sorted(in_tree - on_page)
    assert not missing, f"not in docs/modules.md (run python -m tests.module_index): {missing}"
    assert not on_page - in_tree, f"docs/modules.md lists modules that are gone: {sorted(on_page - in_tree)}"


def test_every_module_says_what_it_holds() -> None:
    assert [path for path, sentence in modules().items() if not sentence] == []


def test_the_page_reads_rows_the_way_it_writes_them() -> None:
    assert listed(render()) == set(modules())
