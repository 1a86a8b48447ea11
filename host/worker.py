"""The far side of a worker: the loop that runs one model's jobs in its own process or actor.

`ModelWorker` holds the model (unpickled from the server's copy, or rebuilt from its class) and
runs jobs on the calling thread, while `cancel` may arrive from any other thread. `serve_pipe`
is a worker process's whole life: jobs and cancels come in over a pipe, events go out on it.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import signal
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import cloudpickle

from host.job import Job
from host.job_runner import run_job
from host.model import Model
from host.requests import Event
from host.workfolder import WorkFolder

log = logging.getLogger(__name__)

MEMORY_EXIT_CODE = 86  # a worker that outgrew memory_limit_mb exits with this code


@dataclass(frozen=True)
class ModelRecipe:
    """How to make the model on the far side when the instance itself does not pickle (it
    holds a lock, a file, a C handle): its class, built with no arguments, plus the manifest's
    settings."""

    cls: type[Model]
    checkpoint: Path | None
    device: str
    default_options: dict[str, Any]

    def build(self) -> Model:
        model = self.cls()
        model.checkpoint, model.device = self.checkpoint, self.device
        model.default_options = dict(self.default_options)
        return model


def transferable(model: Model) -> bytes:
    """The model as bytes for a worker: the instance when it pickles, else a recipe.
    cloudpickle carries classes defined anywhere (a notebook, inside a test) by value."""
    try:
        return cloudpickle.dumps(model)
    except Exception as exc:
        log.debug("model %s does not pickle (%s); workers rebuild it", model.model_id, exc)
        recipe = ModelRecipe(type(model), model.checkpoint, model.device, model.default_options)
        return cloudpickle.dumps(recipe)


def rebuild(payload: bytes) -> Model:
    value = pickle.loads(payload)
    return value.build() if isinstance(value, ModelRecipe) else value  # type: ignore[no-any-return]


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to start."""

    model: bytes  # from `transferable`
    work_root: Path
    input_roots: tuple[Path, ...]
    memory_limit_mb: float = 0.0
    log_level: int = logging.INFO


class ModelWorker:
    def __init__(self, spec: WorkerSpec) -> None:
        self.model = rebuild(spec.model)
        self.work = WorkFolder(spec.work_root, spec.input_roots)
        self._jobs: dict[str, Job] = {}
        self._early_cancels: dict[str, str] = {}  # job key -> reason, for jobs not yet here
        self._lock = threading.Lock()

    def load(self) -> str:
        """Load the weights now; an empty string when it worked, else why not."""
        try:
            self.model.ensure_loaded()
            return ""
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"

    @staticmethod
    def key(job: Job) -> str:
        """One job, not one request id: clients reuse ids, and a cancel that arrives after its
        job ended must not stop the next job with the same id."""
        return f"{job.request_id}@{job.started_at!r}"

    def register(self, job: Job) -> None:
        """Make the job cancellable from now on, before it starts (a cancel may arrive while
        the worker is still starting up, or overtake the job on Ray)."""
        with self._lock:
            self._jobs[self.key(job)] = job
            reason = self._early_cancels.pop(self.key(job), None)
        if reason is not None:
            job.cancel(reason)

    def run(self, job: Job, emit: Any) -> None:
        self.register(job)
        try:
            run_job(self.model, job, self.work, emit)
        finally:
            with self._lock:
                self._jobs.pop(self.key(job), None)

    def cancel(self, key: str, reason: str) -> None:
        """Cancel the job with this `key`, now or as soon as it arrives."""
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                self._early_cancels[key] = reason
        if job is not None:
            job.cancel(reason)


def watch_memory(limit_mb: float, interval: float = 0.2) -> None:
    """Exit the worker (never the server) once its resident memory passes the limit: a
    leaking model is stopped before it takes the machine down."""
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def resident_mb() -> float | None:
        try:
            with open("/proc/self/statm") as handle:
                return int(handle.read().split()[1]) * page / 2**20
        except OSError:  # not Linux: no cheap reading of the current size
            return None

    def watch() -> None:
        while True:
            used = resident_mb()
            if used is None:
                return
            if used > limit_mb:
                sys.stderr.write(f"dawhost worker: {used:.0f} MB > limit {limit_mb:g} MB\n")
                os._exit(MEMORY_EXIT_CODE)
            time.sleep(interval)

    threading.Thread(target=watch, name="dawhost-memory", daemon=True).start()


def die_with_parent() -> None:
    """Linux: the kernel kills this worker if the server dies, even by SIGKILL. Elsewhere the
    pipe's end-of-file does the same a moment later."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve_pipe(conn: Connection, spec: WorkerSpec) -> None:
    """A worker process's main function (the target of the spawned process).

    In: ("run", Job) | ("load",) | ("cancel", job key, reason) | ("exit",).
    Out: ("event", Event) | ("finished", request_id, loaded) | ("loaded", problem). The worker also
    ends when the pipe closes (the server is gone)."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    logging.basicConfig(
        level=spec.log_level, format=f"%(asctime)s worker[{os.getpid()}] %(name)s: %(message)s"
    )
    if spec.memory_limit_mb:
        watch_memory(spec.memory_limit_mb)
    worker = ModelWorker(spec)
    send_lock = threading.Lock()
    work: queue.Queue[tuple[Any, ...]] = queue.Queue()

    def send(message: tuple[Any, ...]) -> None:
        with send_lock:
            conn.send(message)

    def listen() -> None:
        # Cancels must get through while a job runs, so reading has a thread of its own.
        while True:
            try:
                message = pickle.loads(conn.recv_bytes())
            except (EOFError, OSError):  # the server went away: nothing left to work for
                os._exit(0)
            if message[0] == "cancel":
                worker.cancel(message[1], message[2])
            elif message[0] == "exit":  # the server is stopping: no job is worth finishing
                os._exit(0)
            else:
                if message[0] == "run":
                    worker.register(message[1])
                work.put(message)

    threading.Thread(target=listen, name="dawhost-worker-pipe", daemon=True).start()
    while True:
        message = work.get()
        if message[0] == "load":
            send(("loaded", worker.load()))
        elif message[0] == "run":
            job: Job = message[1]

            def emit(event: Event) -> None:
                send(("event", event))

            worker.run(job, emit)
            send(("finished", job.request_id, worker.model.loaded))
