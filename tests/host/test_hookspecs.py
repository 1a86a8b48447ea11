"""Every hook is documented with an example and exercised by some test (datasette's rule)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from host import hookspecs

HOOKS = [
    name
    for name, value in vars(hookspecs).items()
    if callable(value) and hasattr(value, "dawhost_spec")
]
TESTS = Path(__file__).resolve().parents[1]


def test_there_are_hooks() -> None:
    assert set(HOOKS) == {"register_models", "register_frontends", "register_tasks"}


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring_with_an_example(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert "Example::" in doc and "@hookimpl" in doc


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_implemented_somewhere_in_the_tests(hook: str) -> None:
    sources = [p.read_text() for p in TESTS.rglob("*.py")]
    assert any(f"def {hook}(" in text for text in sources), f"no test implements {hook}"
