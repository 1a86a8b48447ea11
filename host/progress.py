"""Progress of `dawhost eval|bench` loops (and data builds) on stderr, one mechanism for every
plugin: `for text in progress.track(texts, "intelligibility", unit="sentence"): ...`.
Training bars (host.training.Budget.bar) stay tqdm's, but go quiet with the same switch.

stdout stays the task's JSON report. Where the progress goes depends on stderr:
- a terminal: a tqdm bar per loop (nested loops get nested bars);
- anything else (a pipe, `nohup ... > log`): plain lines, at most one per 10 % of the loop or
  every 30 s, so a log shows that a 20-minute evaluation is alive without 10,000 redraws;
- `--quiet` on the command line (see host.cli_tasks) or DAWHOST_PROGRESS=off: nothing.
DAWHOST_PROGRESS=bar|lines forces a mode (tests use `lines`).

tqdm is imported only when a bar is drawn, so `host` stays importable without it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from types import TracebackType
from typing import Any, Literal, ParamSpec, TypeVar

Mode = Literal["auto", "bar", "lines", "off"]
MODES: tuple[Mode, ...] = ("auto", "bar", "lines", "off")
ENV = "DAWHOST_PROGRESS"
LINE_EVERY_SECONDS = 30.0  # a line at least this often while a loop runs (lines mode)
LINE_MIN_SECONDS = 1.0  # and no more than one per tenth of the loop, nor more often than this

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")
_mode: Mode = "auto"


def set_mode(mode: Mode) -> None:
    """The mode for this process (the CLI's --quiet sets "off"); DAWHOST_PROGRESS wins."""
    if mode not in MODES:
        raise ValueError(f"progress mode {mode!r}; expected one of {', '.join(MODES)}")
    global _mode
    _mode = mode


def current_mode() -> Literal["bar", "lines", "off"]:
    """What a loop started now would show."""
    chosen = os.environ.get(ENV, "").strip().lower() or _mode
    if chosen in ("0", "no", "false", "none", "quiet"):
        chosen = "off"
    if chosen == "auto" or chosen not in MODES:
        return "bar" if _stderr_is_terminal() else "lines"
    return chosen  # type: ignore[return-value]


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def _stderr_columns() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 0


class Stage:
    """One loop's progress: `advance()` after each step (or `advance(k)`); it closes itself
    once `total` steps are done, or at `close()` (or use it as a context manager).
    `total=None`: a count without a percentage. `counting(fn)` is `fn` that advances the stage
    after each call: a benchmark's timing helper becomes its progress."""

    def __init__(self, desc: str, total: int | None = None, unit: str = "step") -> None:
        self.desc, self.total, self.unit = desc, total, unit
        self.count = 0
        self.mode = current_mode()
        self._started = self._last_line = time.monotonic()
        self._last_tenth = -1
        self._bar: Any = None
        if self.mode == "bar":
            from tqdm import tqdm

            # A terminal that reports no size (a bare pty, `script`) would get no bar at all
            # (tqdm hides bars below the last of 0 rows): draw for 80x24.
            width = {"dynamic_ncols": True} if _stderr_columns() else {"ncols": 80, "nrows": 24}
            self._bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, **width)
        elif self.mode == "lines":
            self._line()

    def advance(self, steps: int = 1) -> None:
        self.count += steps
        finished = self.total is not None and self.count >= self.total
        if self._bar is not None:
            self._bar.update(steps)
            if finished:
                self.close()
        elif self.mode == "lines":
            now = time.monotonic()
            tenth = self._tenth()
            if (
                finished
                or now - self._last_line >= LINE_EVERY_SECONDS
                or (tenth > self._last_tenth and now - self._last_line >= LINE_MIN_SECONDS)
            ):
                self._line()
            if finished:
                self.mode = "off"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.mode == "lines" and (self.total is None or self.count < self.total):
            self._line(" (stopped)" if self.total is not None else " (done)")
        self.mode = "off"

    def counting(self, function: Callable[P, R]) -> Callable[P, R]:
        def counted(*args: P.args, **kwargs: P.kwargs) -> R:
            result = function(*args, **kwargs)
            self.advance()
            return result

        return counted

    def __enter__(self) -> Stage:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _tenth(self) -> int:
        if not self.total:
            return -1
        return min(10, self.count * 10 // self.total)

    def _line(self, suffix: str = "") -> None:
        now = time.monotonic()
        self._last_line, self._last_tenth = now, self._tenth()
        done = f"{self.count}/{self.total}" if self.total is not None else str(self.count)
        percent = f" ({100 * self.count // self.total}%)" if self.total else ""
        elapsed = f"{now - self._started:.0f} s"
        print(f"{self.desc} {done}{percent}, {elapsed}{suffix}", file=sys.stderr, flush=True)


def track(
    items: Iterable[T], desc: str, total: int | None = None, unit: str = "step"
) -> Iterator[T]:
    """Yield `items`, showing `desc` and how many have been done (of `len(items)` when known).
    A step counts as done when the loop asks for the next item."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    with Stage(desc, total, unit) as stage:
        for item in items:
            yield item
            stage.advance()


def note(message: str) -> None:
    """A line on stderr that does not break an open bar (a figure worth seeing at once)."""
    if current_mode() == "bar":
        from tqdm import tqdm

        tqdm.write(message, file=sys.stderr)
    elif current_mode() == "lines":
        print(message, file=sys.stderr, flush=True)
