"""The old engine: jobs on threads of the server process. Kept only as the benchmarks' baseline
(`[engine] executor = "thread"`): a thread cannot be killed, so a model that ignores cancel
keeps its slot, and a crash in model code takes the server with it."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from host.executor import Assignment, EngineSettings, Executor
from host.job_runner import run_job
from host.model import Model
from host.requests import Event
from host.workfolder import WorkFolder

log = logging.getLogger(__name__)


class ThreadExecutor(Executor):
    name = "thread"

    def __init__(self, work: WorkFolder, settings: EngineSettings, workers: int = 2) -> None:
        super().__init__(work, settings)
        self.max_running = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dawhost-job")
        self._running: set[asyncio.Future[None]] = set()

    def slots(self, model: Model) -> int:
        return 1  # one model object, not assumed thread-safe

    def start(self, assignment: Assignment) -> None:
        loop = asyncio.get_running_loop()

        def post(event: Event) -> None:
            loop.call_soon_threadsafe(assignment.emit, event)

        def run() -> None:
            run_job(assignment.model, assignment.job, self.work, post)

        def finished(future: asyncio.Future[None]) -> None:
            self._running.discard(future)
            assignment.finished()

        future = loop.run_in_executor(self._pool, run)
        self._running.add(future)
        future.add_done_callback(finished)

    def cancel(self, assignment: Assignment, reason: str) -> None:
        assignment.job.cancel(reason)

    def kill(self, assignment: Assignment) -> bool:
        log.warning(
            "job %s of %s ignores cancel and a thread cannot be killed; it keeps its slot "
            '(use executor = "process")',
            assignment.job.request_id,
            assignment.model.model_id,
        )
        return False

    def preload(self, model: Model) -> None:
        def load() -> None:
            try:
                model.ensure_loaded()
                log.info("loaded %s", model.model_id)
            except Exception as exc:  # reported again, with the reason, on first request
                log.warning("could not preload %s: %s: %s", model.model_id, type(exc).__name__, exc)

        self._pool.submit(load)

    async def shutdown(self, grace: float) -> None:
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace)
        self._pool.shutdown(wait=False, cancel_futures=True)
