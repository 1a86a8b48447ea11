"""Where model code runs: one interface, three backends.

The engine owns the queues, limits and timers; an executor only runs the jobs it is handed and
reports back on the event loop. Backends:

- `process` (default): one spawned worker process per model replica (`host.executor_process`);
- `ray`: models as Ray actors on a cluster (`host.executor_ray`, needs `dawhost[ray]`);
- `thread`: the old in-process thread pool, kept as a benchmark baseline (`host.executor_thread`).

Whatever the backend: cancel is cooperative first (`cancel`), then a kill (`kill`) after the
engine's grace period; a worker that dies is reported as a `model_error` naming the model and
how it died, and is replaced on the next request.
"""

from __future__ import annotations

import importlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from host.job import Job
from host.model import Model
from host.requests import Event
from host.worker import WorkerSpec, transferable
from host.workfolder import WorkFolder

ExecutorName = Literal["process", "ray", "thread"]
EXECUTORS: dict[str, str] = {
    "process": "host.executor_process:ProcessExecutor",
    "ray": "host.executor_ray:RayExecutor",
    "thread": "host.executor_thread:ThreadExecutor",
}


@dataclass
class EngineSettings:
    """The `[engine]` table of the config file."""

    executor: ExecutorName = "process"
    grace_period: float = 2.0  # seconds a cancelled job may take to stop before its worker dies
    replicas: dict[str, int] = field(default_factory=dict)  # model id -> workers (default 1)
    memory_limit_mb: float = 0.0  # a worker above this resident size is killed; 0: no limit
    threads_per_worker: int = 0  # process: OMP_NUM_THREADS of each worker; 0: the plugin's own
    address: str = "local"  # ray: "auto", "ray://host:10001", or "local" (start one here)
    ray_num_cpus: float | None = None  # ray: CPUs each replica reserves (None: Ray's default)

    @classmethod
    def from_table(cls, table: dict[str, Any], source: str) -> EngineSettings:
        settings = cls()
        for key, value in table.items():
            if not hasattr(settings, key):
                known = ", ".join(settings.__dataclass_fields__)
                raise ValueError(f"{source}: unknown [engine] setting {key!r}; known: {known}")
            setattr(settings, key, value)
        settings.check(source)
        return settings

    def check(self, source: str = "config") -> None:
        if self.executor not in EXECUTORS:
            raise ValueError(
                f"{source}: [engine] executor {self.executor!r} is not one of "
                + ", ".join(EXECUTORS)
            )
        if not self.grace_period >= 0:
            raise ValueError(f"{source}: [engine] grace_period must be >= 0 seconds")
        if not isinstance(self.threads_per_worker, int) or self.threads_per_worker < 0:
            raise ValueError(f"{source}: [engine] threads_per_worker must be an int >= 0")
        for model_id, count in self.replicas.items():
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 64:
                raise ValueError(
                    f"{source}: [engine] replicas.{model_id} = {count!r}; send 1 to 64"
                )

    def replicas_of(self, model_id: str) -> int:
        return self.replicas.get(model_id, 1)


@dataclass
class Assignment:
    """One job handed to an executor. `emit` and `finished` must be called on the event loop;
    `finished` exactly once, when the job's slot is free again."""

    model: Model
    job: Job
    emit: Callable[[Event], None]
    finished: Callable[[], None]


class Executor(ABC):
    name: str
    # At most this many jobs at once over all models (None: each replica is its own slot).
    max_running: int | None = None

    def __init__(self, work: WorkFolder, settings: EngineSettings) -> None:
        self.work = work
        self.settings = settings
        self.kills = 0  # workers killed because a job ignored cancel or timeout
        self._payloads: dict[str, bytes] = {}  # model id -> the model pickled once for workers

    def worker_spec(self, model: Model) -> WorkerSpec:
        """What a new worker (process or actor) needs to host `model`."""
        if model.model_id not in self._payloads:
            self._payloads[model.model_id] = transferable(model)
        return WorkerSpec(
            self._payloads[model.model_id],
            self.work.root,
            tuple(self.work.input_roots[1:]),
            self.settings.memory_limit_mb,
            logging.getLogger().getEffectiveLevel(),
        )

    def slots(self, model: Model) -> int:
        """How many jobs of this model may run at once."""
        return self.settings.replicas_of(model.model_id)

    @abstractmethod
    def start(self, assignment: Assignment) -> None:
        """Begin running the job; called on the event loop, must not block."""

    @abstractmethod
    def cancel(self, assignment: Assignment, reason: str) -> None:
        """Ask the running job to stop (its next `job.progress()` raises)."""

    @abstractmethod
    def kill(self, assignment: Assignment) -> bool:
        """Stop the job by force (its worker dies and is replaced later). True when the work
        really stopped; then `finished` has been called."""

    def preload(self, model: Model) -> None:  # noqa: B027 - optional, nothing to warm by default
        """Start a worker and load the weights ahead of the first request."""

    @abstractmethod
    async def shutdown(self, grace: float) -> None:
        """Stop every worker: politely for up to `grace` seconds, then by force."""


def make_executor(work: WorkFolder, settings: EngineSettings, thread_workers: int) -> Executor:
    module_name, class_name = EXECUTORS[settings.executor].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # ray is an optional extra
        raise RuntimeError(
            f"executor {settings.executor!r} needs a package that is not installed ({exc}); "
            "for Ray: pip install 'dawhost[ray]'"
        ) from exc
    cls = getattr(module, class_name)
    if settings.executor == "thread":
        return cls(work, settings, workers=thread_workers)  # type: ignore[no-any-return]
    return cls(work, settings)  # type: ignore[no-any-return]
