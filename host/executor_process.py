"""The default executor: each model replica lives in a spawned worker process.

The server process never imports the model's heavy libraries (torch stays in the workers).
One job at a time runs in a worker; its events come back over a pipe as they happen, read by a
small thread per worker that hands them to the event loop. A worker that is killed (after a
cancel or timeout it ignored) or dies on its own is replaced when its model is next asked for.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import cloudpickle

from host.errors import ErrorCode
from host.executor import Assignment, EngineSettings, Executor
from host.model import Model
from host.requests import Error
from host.worker import MEMORY_EXIT_CODE, ModelWorker, serve_pipe
from host.workfolder import WorkFolder

log = logging.getLogger(__name__)

_SPAWN = multiprocessing.get_context("spawn")  # fork would copy the server's threads and sockets


def how_it_died(exitcode: int | None, memory_limit_mb: float) -> str:
    """A worker's end in words: "was killed by signal SIGSEGV", "exited with code 3"."""
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"was killed by signal {name}"
    if exitcode == MEMORY_EXIT_CODE and memory_limit_mb:
        return f"used more than its memory limit of {memory_limit_mb:g} MB and was stopped"
    return f"exited with code {exitcode}"


class WorkerProcess:
    """One worker process and the one job it may be running."""

    def __init__(self, executor: ProcessExecutor, model: Model, replica: int) -> None:
        self.executor = executor
        self.model = model
        self.replica = replica
        self.current: Assignment | None = None
        self.killed = False  # by us: the client already heard why
        self.alive = True
        self.loop = asyncio.get_running_loop()
        parent, child = _SPAWN.Pipe(duplex=True)
        self.conn: Connection = parent
        self.process: BaseProcess = _SPAWN.Process(
            target=serve_pipe,
            args=(child, executor.worker_spec(model)),
            name=f"dawhost-worker-{model.model_id}-{replica}",
            daemon=True,
        )
        self.process.start()
        child.close()  # the worker's end lives in the worker now; EOF reaches us when it dies
        self.pid = self.process.pid
        self._reader = threading.Thread(
            target=self._read, name=f"dawhost-pipe-{model.model_id}-{replica}", daemon=True
        )
        self._reader.start()
        log.info("started worker %s for %s (replica %d)", self.pid, model.model_id, replica)

    def send(self, message: tuple[Any, ...]) -> bool:
        try:
            # cloudpickle: a job's Options class may live anywhere its model was defined.
            self.conn.send_bytes(cloudpickle.dumps(message))
            return True
        except (OSError, ValueError):  # the worker is gone; its reader reports how
            return False

    def kill(self) -> None:
        self.killed = True
        self.alive = False  # no new job for it, even before its reader sees the end
        # Only the reader thread reaps the process (two waiters would race for its status).
        if self.pid is not None and self._reader.is_alive():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _read(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                break
            except Exception:  # an event that does not unpickle here: say so, keep reading
                log.exception("could not read a message from the %s worker", self.model.model_id)
                continue
            self._post(self.executor.on_message, self, message)
        self.process.join(timeout=5)
        self._post(self.executor.on_exit, self, self.process.exitcode)

    def _post(self, callback: Any, *args: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop closed during shutdown; nobody is listening
            pass


class ProcessExecutor(Executor):
    name = "process"

    def __init__(self, work: WorkFolder, settings: EngineSettings) -> None:
        super().__init__(work, settings)
        # Workers inherit this environment (the server itself runs no OpenMP code). OpenMP's
        # default busy-wait made a 4 s separation 7x slower while another process used a core
        # (benchmarks.bench_replicas: 28 requests/min against 280 with passive waiting).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        if settings.threads_per_worker:
            os.environ["OMP_NUM_THREADS"] = str(settings.threads_per_worker)
        self._workers: dict[str, list[WorkerProcess | None]] = {}

    def workers(self, model_id: str | None = None) -> list[WorkerProcess]:
        """Live workers (of one model, or all): for tests and `shutdown`."""
        ids = [model_id] if model_id else list(self._workers)
        return [w for i in ids for w in self._workers.get(i, []) if w is not None and w.alive]

    def _idle_worker(self, model: Model) -> WorkerProcess:
        replicas = self._workers.setdefault(model.model_id, [None] * self.slots(model))
        for worker in replicas:
            if worker is not None and worker.alive and worker.current is None:
                return worker
        for index, worker in enumerate(replicas):
            if worker is None or not worker.alive:
                replicas[index] = WorkerProcess(self, model, index)
                return replicas[index]  # type: ignore[return-value]
        raise RuntimeError(f"no free replica of {model.model_id}; the engine over-assigned")

    def start(self, assignment: Assignment) -> None:
        worker = self._idle_worker(assignment.model)
        worker.current = assignment
        if not worker.send(("run", assignment.job)):
            log.warning(
                "worker %s of %s is gone; its reader reports why",
                worker.pid,
                assignment.model.model_id,
            )

    def preload(self, model: Model) -> None:
        # A busy worker takes the load after its job (it answers "loaded" either way).
        live = self.workers(model.model_id)
        idle = [w for w in live if w.current is None]
        worker = (idle or live)[0] if live else self._idle_worker(model)
        worker.send(("load",))

    def _worker_of(self, assignment: Assignment) -> WorkerProcess | None:
        for worker in self._workers.get(assignment.model.model_id, []):
            if worker is not None and worker.current is assignment:
                return worker
        return None

    def cancel(self, assignment: Assignment, reason: str) -> None:
        assignment.job.cancel(reason)
        worker = self._worker_of(assignment)
        if worker is not None:
            worker.send(("cancel", ModelWorker.key(assignment.job), reason))

    def kill(self, assignment: Assignment) -> bool:
        worker = self._worker_of(assignment)
        if worker is None:
            return True  # it finished meanwhile
        log.warning(
            "killing worker %s: %s did not stop job %s within %g s",
            worker.pid,
            assignment.model.model_id,
            assignment.job.request_id,
            self.settings.grace_period,
        )
        self.kills += 1
        worker.kill()
        self._release(worker)
        return True

    def _release(self, worker: WorkerProcess) -> None:
        assignment, worker.current = worker.current, None
        if assignment is not None:
            assignment.finished()

    # --- on the event loop, from the reader threads ---------------------------------------
    def on_message(self, worker: WorkerProcess, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "event" and worker.current is not None and not worker.killed:
            worker.current.emit(message[1])
        elif kind == "finished":
            worker.model.note_loaded(message[2])  # the job loaded the weights (or not)
            if worker.current is not None and worker.current.job.request_id == message[1]:
                self._release(worker)
        elif kind == "loaded":
            problem = message[1]
            worker.model.note_loaded(not problem)
            if problem:  # reported again, with the reason, on first request
                log.warning("could not preload %s: %s", worker.model.model_id, problem)
            else:
                log.info("loaded %s in worker %s", worker.model.model_id, worker.pid)

    def on_exit(self, worker: WorkerProcess, exitcode: int | None) -> None:
        worker.alive = False
        if not any(w.alive for w in self.workers(worker.model.model_id)):
            worker.model.note_loaded(False)
        if worker.killed:  # the client already heard why
            log.info("worker %s of %s stopped", worker.pid, worker.model.model_id)
            self._release(worker)
            return
        how = how_it_died(exitcode, self.settings.memory_limit_mb)
        log.error("worker %s of %s %s", worker.pid, worker.model.model_id, how)
        if worker.current is not None:
            job = worker.current.job
            worker.current.emit(
                Error(
                    job.request_id,
                    ErrorCode.MODEL_ERROR,
                    f"model {worker.model.model_id!r} crashed: its worker process {how}; "
                    "it starts again on the next request",
                )
            )
            self._release(worker)

    async def shutdown(self, grace: float) -> None:
        workers = self.workers()
        for worker in workers:
            worker.killed = True  # from here on, a worker's end is expected
            worker.send(("exit",))
        await self._readers_done(workers, grace)
        for worker in workers:
            worker.kill()
        await self._readers_done(workers, 1.0)
        for worker in workers:
            worker.alive = False
            worker.conn.close()

    @staticmethod
    async def _readers_done(workers: list[WorkerProcess], timeout: float) -> None:
        """Wait until each worker's reader saw its end and reaped it, or the time is up."""
        deadline = time.monotonic() + timeout
        while any(w._reader.is_alive() for w in workers) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
