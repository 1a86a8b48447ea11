"""An autouse fixture for front-end tests: bad input may only be logged as a warning; an ERROR
logged by a front-end (or its websockets server) means a handler broke, and fails the test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def no_handler_crashes(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    crashes = [r.getMessage() for r in caplog.get_records("call")
               if r.levelno >= logging.ERROR and r.name.startswith("protocols")]
    assert crashes == []
