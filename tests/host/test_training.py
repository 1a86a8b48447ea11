"""The shared training kit: budgets in steps and in time, the cosine, the save clock, atomic
checkpoint writes, and the one --save-every unit."""

from __future__ import annotations

import argparse
import io
import math
import time
from pathlib import Path

import pytest
import torch

from host.training import (
    Budget,
    SaveClock,
    add_budget_arguments,
    cosine,
    save_atomic,
    write_text_atomic,
)


def test_a_step_budget_ends_on_its_step_and_counts_its_fraction_in_steps() -> None:
    budget = Budget(minutes=60.0, steps=4)
    assert [budget.spent(step) for step in range(6)] == [False] * 4 + [True] * 2
    assert budget.fraction(1) == 0.25 and budget.fraction(9) == 1.0


def test_a_time_budget_counts_a_resumed_runs_earlier_time() -> None:
    fresh = Budget(minutes=1.0)
    assert not fresh.spent(10**9) and fresh.fraction(0) < 0.01
    resumed = Budget(minutes=1.0, elapsed=61.0)
    assert resumed.spent(0) and resumed.fraction(0) == 1.0 and resumed.elapsed >= 61.0
    with pytest.raises(ValueError, match="minutes or steps"):
        Budget()


def test_the_cosine_runs_from_one_to_its_floor() -> None:
    assert cosine(0.0) == 1.0 and cosine(1.0) == pytest.approx(0.0, abs=1e-15)
    assert cosine(0.5, floor=0.1) == pytest.approx(0.55)
    assert cosine(7.0, floor=0.05) == cosine(1.0, floor=0.05)  # past the end stays at the floor
    # the exact float the schedules used before they shared it
    fraction = 0.3
    assert 2e-3 * cosine(fraction, floor=0.05) == 2e-3 * (
        0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, fraction)))
    )


def test_the_save_clock_is_due_once_per_interval() -> None:
    clock = SaveClock(minutes=0.5 / 60)  # half a second
    assert not clock.due()
    clock.last -= 1.0  # as if a second had passed
    assert clock.due() and not clock.due()
    assert SaveClock(0.0).due()


def test_checkpoints_are_written_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "model.pt"
    save_atomic(path, {"weights": torch.arange(3)})
    assert torch.equal(torch.load(path, weights_only=True)["weights"], torch.arange(3))

    class Unpicklable:
        def __reduce__(self) -> tuple[object, ...]:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_atomic(path, {"weights": Unpicklable()})
    assert torch.equal(torch.load(path, weights_only=True)["weights"], torch.arange(3))
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.pt"]  # no partial left
    write_text_atomic(tmp_path / "curves.json", "[1, 2]")
    assert (tmp_path / "curves.json").read_text() == "[1, 2]"


def test_save_every_is_minutes_and_old_names_still_work() -> None:
    parser = argparse.ArgumentParser()
    add_budget_arguments(parser, minutes=30.0, save_every=2.0, save_aliases=("--val-minutes",))
    args = parser.parse_args([])
    assert (args.minutes, args.max_steps, args.save_every) == (30.0, 0, 2.0)
    assert parser.parse_args(["--val-minutes", "5"]).save_every == 5.0
    assert "minutes" in parser.format_help()


def test_budget_bar_follows_steps_or_seconds() -> None:
    steps = Budget(steps=5)
    bar = steps.bar("x", file=io.StringIO())
    steps.advance(bar, 3)
    assert (bar.total, bar.n) == (5, 3)
    timed = Budget(minutes=1.0, elapsed=2.5)
    bar = timed.bar("x", file=io.StringIO())
    timed.advance(bar, 100)
    assert bar.total == 60 and 2 <= bar.n <= 3 + time.monotonic() - timed.started
