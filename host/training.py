"""What every plugin's train script shares: a budget that ends the loop (wall-clock minutes,
steps, or both), a progress bar over it, a cosine learning rate over it, a save clock, and
atomic checkpoint writes through the host's `WorkFolder.write_atomic`.

One unit for `--save-every` in every script: minutes of wall clock. These machines are shared
and steps per second vary several-fold, so a budget in time (and saves in time) is what a user
can plan with; `--max-steps` bounds a run in steps (tests, exact reproductions).

torch and tqdm are imported where they are used, so `host` stays importable without them.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from host.workfolder import WorkFolder

if TYPE_CHECKING:
    from tqdm import tqdm

SAVE_EVERY_HELP = "minutes of wall clock between checkpoint saves"


def add_budget_arguments(
    parser: argparse.ArgumentParser,
    minutes: float | None,
    save_every: float,
    save_help: str = SAVE_EVERY_HELP,
    save_aliases: tuple[str, ...] = (),
    steps_aliases: tuple[str, ...] = (),
) -> None:
    """--minutes (the time budget; None: no limit), --max-steps and --save-every (minutes);
    the aliases are older names for the last two that keep working."""
    parser.add_argument(
        "--minutes", type=float, default=minutes, help="wall-clock budget; stop (and save) then"
    )
    parser.add_argument(
        "--max-steps",
        *steps_aliases,
        dest="max_steps",
        type=int,
        default=0,
        help="stop after N steps (0: none)",
    )
    parser.add_argument(
        "--save-every",
        *save_aliases,
        dest="save_every",
        type=float,
        default=save_every,
        help=save_help,
    )


class Budget:
    """How much of a run is left: `minutes` of wall clock and/or `steps` optimiser steps
    (None or 0: no limit of that kind). A resumed run passes what it had already used."""

    def __init__(
        self,
        minutes: float | None = None,
        steps: int | None = None,
        elapsed: float = 0.0,
    ) -> None:
        if not minutes and not steps:
            raise ValueError("a training budget needs minutes or steps")
        self.seconds = minutes * 60.0 if minutes else None
        self.steps = steps or None
        self.started = time.monotonic() - elapsed

    @property
    def elapsed(self) -> float:
        """Seconds since the run started (a resumed run's earlier time included)."""
        return time.monotonic() - self.started

    def spent(self, step: int) -> bool:
        """True once the run has used its steps or its time."""
        if self.steps is not None and step >= self.steps:
            return True
        return self.seconds is not None and self.elapsed >= self.seconds

    def fraction(self, step: int) -> float:
        """How far through the run (0..1): by steps when the budget counts steps, else by
        time; what learning-rate schedules follow."""
        if self.steps is not None:
            return min(1.0, step / self.steps)
        assert self.seconds is not None
        return min(1.0, self.elapsed / self.seconds)

    def bar(self, desc: str, step: int = 0, **settings: Any) -> tqdm[Any]:
        """A progress bar over the budget: steps when it counts steps, else seconds."""
        from tqdm import tqdm

        from host.progress import current_mode

        settings.setdefault("disable", current_mode() == "off")  # --quiet, DAWHOST_PROGRESS=off
        if self.steps is not None:
            return tqdm(total=self.steps, initial=step, desc=desc, unit="step", **settings)
        assert self.seconds is not None
        return tqdm(total=int(self.seconds), desc=desc, unit="s", **settings)

    def advance(self, bar: tqdm[Any], step: int) -> None:
        """Move the bar to `step` (or to the time spent) without redrawing it more often than
        its own mininterval."""
        position = step if self.steps is not None else int(min(self.elapsed, self.seconds or 0))
        bar.update(position - bar.n)


def cosine(fraction: float, floor: float = 0.0) -> float:
    """A cosine from 1 at the start down to `floor` at the end of the run (fraction 0..1)."""
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, fraction)))


class SaveClock:
    """Says when a checkpoint is due: every `minutes` of wall clock (--save-every)."""

    def __init__(self, minutes: float) -> None:
        self.interval = minutes * 60.0
        self.last = time.monotonic()

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last < self.interval:
            return False
        self.last = now
        return True


def save_atomic(path: Path, payload: object) -> Path:
    """`torch.save(payload)` to a temporary file beside `path`, renamed onto it when complete:
    a reader (the server, an evaluation, a stopped run's user) never sees half a checkpoint.
    Written through the host's one atomic writer, confined to the checkpoint's folder."""
    import torch

    path = Path(path)
    return WorkFolder(path.parent).write_atomic(path, lambda tmp: torch.save(payload, tmp))


def write_text_atomic(path: Path, text: str) -> Path:
    """As `save_atomic`, for a small text file (curves, logs written whole)."""
    path = Path(path)

    def write(tmp: Path) -> None:
        tmp.write_text(text)

    return WorkFolder(path.parent).write_atomic(path, write)
