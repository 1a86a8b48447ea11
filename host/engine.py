"""The job engine: queues model requests and hands them to an executor, which runs them off
the event loop (worker processes by default; see `host.executor`).

Each model replica runs one job at a time (model objects hold weights and caches). Queues are
bounded per model and overall: a full queue answers `busy` at once instead of piling up work.
Cancel and timeout are cooperative first (the model's next `job.progress()` raises) and, after
the grace period, a kill of the worker: the client hears `cancelled`/`timeout` at once either
way, and a job that ignores both never keeps its slot.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from host.errors import DawhostError, ErrorCode
from host.executor import Assignment, Executor
from host.job import Job
from host.model import Model
from host.requests import Accepted, Done, Error, Event

log = logging.getLogger(__name__)

Sink = Callable[[Event], None]


@dataclass
class ActiveJob:
    key: tuple[str, str]  # (client, request id)
    model: Model
    job: Job
    sink: Sink
    finished: bool = False  # the client has had its `done` or `error`
    running: bool = False
    timeout_handle: asyncio.TimerHandle | None = None
    kill_handle: asyncio.TimerHandle | None = None
    worker_done: asyncio.Event = field(default_factory=asyncio.Event)
    assignment: Assignment | None = None

    def emit(self, event: Event) -> None:
        """Deliver an event unless the job already ended (e.g. cancelled while running)."""
        if self.finished:
            return
        if isinstance(event, (Done, Error)):
            self.finished = True
            if self.timeout_handle:
                self.timeout_handle.cancel()
        try:
            self.sink(event)
        except Exception:  # a broken client sink must not take the engine down
            log.exception("event sink for %s failed", self.key)


class Engine:
    def __init__(
        self,
        executor: Executor,
        model_queue_limit: int = 4,
        total_queue_limit: int = 16,
        job_timeout: float = 600.0,
        grace_period: float = 2.0,
    ) -> None:
        self.executor = executor
        self.model_queue_limit = model_queue_limit
        self.total_queue_limit = total_queue_limit
        self.job_timeout = job_timeout
        self.grace_period = grace_period
        self._pending: dict[str, deque[ActiveJob]] = {}
        self._running: dict[str, int] = {}  # model id -> jobs running
        self._active: dict[tuple[str, str], ActiveJob] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- called on the event loop --------------------------------------------------------
    def enqueue(self, model: Model, job: Job, client: str, sink: Sink) -> None:
        """Queue a validated job; raises DawhostError (busy, duplicate id) when it cannot."""
        self._loop = asyncio.get_running_loop()
        key = (client, job.request_id)
        previous = self._active.get(key)
        # An id whose job already answered `done`/`error` may be sent again at once (a Max
        # patch reuses its ids), even while its worker is still reporting back.
        if previous is not None and not previous.finished:
            raise DawhostError(
                ErrorCode.DUPLICATE_ID,
                f"request id {job.request_id!r} is still running; use a new id per request",
            )
        in_model = sum(1 for a in self._active.values() if a.model is model)
        if in_model >= self.model_queue_limit:
            raise DawhostError(
                ErrorCode.BUSY,
                f"model {model.model_id!r} already has {in_model} requests queued or running "
                f"(limit {self.model_queue_limit}); wait for one to finish or cancel one",
            )
        if len(self._active) >= self.total_queue_limit:
            raise DawhostError(
                ErrorCode.BUSY,
                f"the server has {len(self._active)} requests queued or running "
                f"(limit {self.total_queue_limit}); retry shortly",
            )
        active = ActiveJob(key, model, job, sink)
        self._active[key] = active
        self._pending.setdefault(model.model_id, deque()).append(active)
        active.emit(
            Accepted(job.request_id, model.model_id, len(self._pending[model.model_id]) - 1)
        )
        if self.job_timeout:
            active.timeout_handle = self._loop.call_later(self.job_timeout, self._time_out, active)
        self._pump()

    def preload(self, model: Model) -> None:
        """Load a model's weights in the background, ahead of its first request."""
        self.executor.preload(model)

    async def warm_up(self, models: Iterable[Model], timeout: float = 120.0) -> None:
        """Preload each model and wait until its weights are in place (benchmarks and tests
        that time requests, not worker start-up). Raises TimeoutError if one never loads."""
        waiting = [model for model in models if not model.loaded]
        for model in waiting:
            self.preload(model)
        async with asyncio.timeout(timeout):
            while not all(model.loaded for model in waiting):
                await asyncio.sleep(0.01)

    def cancel(self, client: str, request_id: str) -> bool:
        active = self._active.get((client, request_id))
        if active is None or active.finished:
            return False
        self._stop(active, ErrorCode.CANCELLED, "cancelled by the client")
        return True

    def cancel_all(self, reason: str = "the server is shutting down") -> None:
        for active in list(self._active.values()):
            self._stop(active, ErrorCode.CANCELLED, reason)

    async def shutdown(self, grace: float | None = None) -> None:
        """Cancel everything, then stop the executor's workers (by force after `grace`)."""
        self.cancel_all()
        await self.executor.shutdown(self.grace_period if grace is None else grace)
        for active in list(self._active.values()):  # a thread that ignored cancel
            self._finished(active)

    def active_jobs(self) -> list[ActiveJob]:
        return list(self._active.values())

    def _time_out(self, active: ActiveJob) -> None:
        self._stop(
            active,
            ErrorCode.TIMEOUT,
            f"the job ran longer than {self.job_timeout:g} s and was stopped; "
            "ask for less (fewer bars, shorter audio) or raise job_timeout",
        )

    def _stop(self, active: ActiveJob, code: ErrorCode, message: str) -> None:
        active.emit(Error(active.job.request_id, code, message))
        if not active.running:  # never started: forget it now
            active.job.cancel(code.value)
            queue = self._pending.get(active.model.model_id)
            if queue and active in queue:
                queue.remove(active)
            if self._active.get(active.key) is active:
                del self._active[active.key]
            return
        assert active.assignment is not None and self._loop is not None
        self.executor.cancel(active.assignment, code.value)
        if active.kill_handle is None:
            active.kill_handle = self._loop.call_later(self.grace_period, self._force, active)

    def _force(self, active: ActiveJob) -> None:
        """The grace period is over and the job still runs: stop it by force."""
        active.kill_handle = None
        if active.running and active.assignment is not None:
            self.executor.kill(active.assignment)

    def _pump(self) -> None:
        """Start queued jobs while their model has a free replica (and the executor room)."""
        limit = self.executor.max_running
        for model_id, queue in self._pending.items():
            while queue:
                if limit is not None and sum(self._running.values()) >= limit:
                    return
                if self._running.get(model_id, 0) >= self.executor.slots(queue[0].model):
                    break
                active = queue.popleft()
                active.running = True
                self._running[model_id] = self._running.get(model_id, 0) + 1
                active.assignment = Assignment(
                    active.model, active.job, active.emit, functools.partial(self._finished, active)
                )
                try:
                    self.executor.start(active.assignment)
                except Exception as exc:  # no worker could start: the client hears why
                    log.exception("could not start a worker for %s", model_id)
                    active.emit(
                        Error(
                            active.job.request_id,
                            ErrorCode.MODEL_ERROR,
                            f"model {model_id!r} could not start: {type(exc).__name__}: {exc}",
                        )
                    )
                    self._finished(active)

    def _finished(self, active: ActiveJob) -> None:
        if not active.running:
            return
        active.running = False
        if active.kill_handle:
            active.kill_handle.cancel()
            active.kill_handle = None
        model_id = active.model.model_id
        self._running[model_id] = max(0, self._running.get(model_id, 0) - 1)
        if self._active.get(active.key) is active:  # not a newer job with the same id
            del self._active[active.key]
        if not active.finished:  # the worker ended without a word (should not happen)
            active.emit(
                Error(active.job.request_id, ErrorCode.MODEL_ERROR, f"{model_id!r} stopped")
            )
        active.worker_done.set()
        self._pump()
