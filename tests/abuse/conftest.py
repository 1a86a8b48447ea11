"""The abuse suite: each attack from issue #20 as a regression test, plus seeded fuzzing.
Every server here binds 127.0.0.1; `off_loopback` plays a server bound to every interface
(the access decisions change, the socket stays on loopback)."""

from __future__ import annotations

import pytest

from protocols import access
from tests.protocols.crash_check import no_handler_crashes  # noqa: F401


@pytest.fixture
def off_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access, "loopback_only", lambda bind: False)
