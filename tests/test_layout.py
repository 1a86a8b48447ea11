"""Tests mirror the source: each module has `tests/<its folder>/test_<name>.py`, or a line in
tests/README.md naming the tests that cover it (or why none do)."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("host", "protocols", "plugins")


def _modules() -> list[Path]:
    found = []
    for folder in SOURCE_FOLDERS:
        for path in sorted((PROJECT / folder).rglob("*.py")):
            if path.name != "__init__.py" and "checkpoints" not in path.parts:
                found.append(path.relative_to(PROJECT))
    return found


def _mirror(module: Path) -> Path:
    return PROJECT / "tests" / module.parent / f"test_{module.name}"


def _table() -> dict[str, str]:
    text = (PROJECT / "tests" / "README.md").read_text()
    return dict(re.findall(r"^\| `([^`]+)` \| (.+) \|$", text, re.M))


def test_every_module_has_its_tests_or_says_where_they_are() -> None:
    table = _table()
    missing = [str(m) for m in _modules() if not _mirror(m).exists() and str(m) not in table]
    assert missing == [], "add tests/<folder>/test_<name>.py, or a row in tests/README.md"


def test_the_table_names_real_modules_and_real_tests() -> None:
    table = _table()
    modules = {str(m) for m in _modules()}
    assert sorted(set(table) - modules) == []  # rows of modules that no longer exist
    mirrored = sorted(m for m in table if _mirror(Path(m)).exists())
    assert mirrored == []  # a row for a module that now has its own test module
    named = {p for where in table.values() for p in re.findall(r"tests/[\w/]+\.py", where)}
    assert sorted(p for p in named if not (PROJECT / p).exists()) == []
