"""Log lines for bad client input, rate-limited and capped in size: a fuzzer or a broken patch
must not flood the log (or slow the loop down writing it), yet every problem is counted."""

from __future__ import annotations

import logging
import time
from typing import Any

MAX_LINE = 400  # characters of one logged line; client input can make messages of any size


def capped(text: str, limit: int = MAX_LINE) -> str:
    return (
        text if len(text) <= limit else f"{text[:limit]}... [{len(text) - limit} more characters]"
    )


class LogLimiter:
    def __init__(self, logger: logging.Logger, per_second: int = 20) -> None:
        self.logger = logger
        self.per_second = per_second
        self._window = 0.0
        self._count = 0
        self._suppressed = 0

    def warning(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._window >= 1.0:
            if self._suppressed:
                self.logger.warning(
                    "... %d more bad messages in the last second (not logged)", self._suppressed
                )
            self._window, self._count, self._suppressed = now, 0, 0
        if self._count < self.per_second:
            self._count += 1
            self.logger.warning("%s", capped(message % args if args else message))
        else:
            self._suppressed += 1
