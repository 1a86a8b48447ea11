"""Command-line tasks plugins offer: training, evaluation and benchmarks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

TaskKind = Literal["train", "eval", "bench"]


@dataclass(frozen=True)
class Task:
    """`dawhost <kind> <name> [args...]` calls `main(args)`; its return value is the exit code.
    Evaluations and benchmarks print one JSON object (with `--json`)."""

    kind: TaskKind
    name: str
    description: str
    main: Callable[[Sequence[str]], int]
