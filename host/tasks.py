"""Command-line tasks plugins offer: training, evaluation and benchmarks."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

TaskKind = Literal["train", "eval", "bench"]


@dataclass(frozen=True)
class DataNeed:
    """Data a task reads that is built on this machine, not shipped: `dawhost eval separation`
    says so before it starts (with how long a build takes) and `--build-data` builds it.

    `marker` exists once the data is built (a file, or a folder that is not empty);
    `builder` is a module whose `main(argv)` builds it, called with `build_args`.
    `unless` names options that point the task at other data (`--data`): given one, the task
    reads that data instead, so this need does not apply (the task checks its own input)."""

    marker: Path
    builder: str
    minutes: float  # about how long the build takes on a 2-core machine
    build_args: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()

    def applies(self, argv: Sequence[str]) -> bool:
        """False when `argv` has one of the `unless` options (`--data x` or `--data=x`)."""
        return not any(a == o or a.startswith(o + "=") for a in argv for o in self.unless)

    def is_built(self) -> bool:
        if self.marker.is_dir():
            return any(self.marker.iterdir())
        return self.marker.is_file()

    @property
    def command(self) -> str:
        return " ".join(["python -m", self.builder, *self.build_args])

    def build(self) -> int:
        return int(importlib.import_module(self.builder).main(list(self.build_args)))


@dataclass(frozen=True)
class Task:
    """`dawhost <kind> <name> [args...]` calls `main(args)`; its return value is the exit code.
    Evaluations and benchmarks print one JSON object (with `--json`)."""

    kind: TaskKind
    name: str
    description: str
    main: Callable[[Sequence[str]], int]
    data: DataNeed | None = None

    @classmethod
    def lazy(
        cls, kind: TaskKind, name: str, description: str, module: str, data: DataNeed | None = None
    ) -> Task:
        """A task whose module (with its heavy imports) loads only when the task runs:
        `Task.lazy("train", "melnet", "...", "plugins.melnet.train")` calls its `main(argv)`."""

        def main(argv: Sequence[str]) -> int:
            return int(importlib.import_module(module).main(list(argv)))

        return cls(kind, name, description, main, data)
