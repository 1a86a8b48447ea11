"""An autouse fixture for front-end tests: bad input may only be logged as a warning; an ERROR
logged by a front-end (or its websockets server) means a handler broke, and fails the test. So
does a front-end callback that the core caught (an event sink or listener that raised, a
scheduled callback): the core survives those, but the client lost its replies."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


def _caught_by_the_core(message: str) -> bool:
    """How host/core.py, engine.py and scheduler.py report a front-end callback that raised."""
    return message.startswith("event sink for") or message in (
        "event listener failed",
        "scheduled callback failed",
    )


@pytest.fixture(autouse=True)
def no_handler_crashes(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    crashes = [
        r.getMessage()
        for r in caplog.get_records("call")
        if r.levelno >= logging.ERROR
        and (r.name.startswith("protocols") or _caught_by_the_core(r.getMessage()))
    ]
    assert crashes == []
