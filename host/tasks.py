"""Command-line tasks plugins offer: training, evaluation and benchmarks."""

from __future__ import annotations

import importlib
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

    @classmethod
    def lazy(cls, kind: TaskKind, name: str, description: str, module: str) -> Task:
        """A task whose module (with its heavy imports) loads only when the task runs:
        `Task.lazy("train", "melnet", "...", "plugins.melnet.train")` calls its `main(argv)`."""

        def main(argv: Sequence[str]) -> int:
            return int(importlib.import_module(module).main(list(argv)))

        return cls(kind, name, description, main)
