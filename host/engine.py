"""The job engine: runs model requests on worker threads, off the event loop.

Each model runs one job at a time (model objects hold weights and caches, and are not assumed
thread-safe); at most `workers` jobs run at once. Queues are bounded per model and overall: a
full queue answers `busy` at once instead of piling up work. Cancel and timeout set the job's
flag, which the model's next `job.progress()` turns into `JobCancelled`, so work really stops.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import soundfile

from host.errors import DawhostError, ErrorCode, JobCancelled
from host.job import Job
from host.model import Model
from host.notes import unplayable
from host.outputs import AudioOutput, FileOutput, NotesOutput, Output, Provenance, StemsOutput
from host.requests import Accepted, Done, Error, Event, OutputEvent, Progress
from host.workfolder import WorkFolder

log = logging.getLogger(__name__)

Sink = Callable[[Event], None]
PROGRESS_INTERVAL = 0.05  # seconds between progress events; clients need no more than 20/s


@dataclass
class ActiveJob:
    key: tuple[str, str]  # (client, request id)
    model: Model
    job: Job
    sink: Sink
    finished: bool = False
    outputs: int = 0
    last_progress: float = 0.0
    last_message: str = ""
    timeout_handle: asyncio.TimerHandle | None = None
    running: bool = False
    worker_done: asyncio.Event = field(default_factory=asyncio.Event)

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
        work: WorkFolder,
        workers: int = 2,
        model_queue_limit: int = 4,
        total_queue_limit: int = 16,
        job_timeout: float = 600.0,
    ) -> None:
        self.work = work
        self.workers = workers
        self.model_queue_limit = model_queue_limit
        self.total_queue_limit = total_queue_limit
        self.job_timeout = job_timeout
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dawhost-job")
        self._pending: dict[str, deque[ActiveJob]] = {}
        self._running_models: set[str] = set()
        self._active: dict[tuple[str, str], ActiveJob] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- called on the event loop --------------------------------------------------------
    def enqueue(self, model: Model, job: Job, client: str, sink: Sink) -> None:
        """Queue a validated job; raises DawhostError (busy, duplicate id) when it cannot."""
        self._loop = asyncio.get_running_loop()
        key = (client, job.request_id)
        if key in self._active:
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
        job._on_progress = lambda fraction, message: self._progress_from_worker(
            active, fraction, message
        )
        self._active[key] = active
        self._pending.setdefault(model.model_id, deque()).append(active)
        active.emit(
            Accepted(job.request_id, model.model_id, len(self._pending[model.model_id]) - 1)
        )
        if self.job_timeout:
            active.timeout_handle = self._loop.call_later(self.job_timeout, self._time_out, active)
        self._pump()

    def cancel(self, client: str, request_id: str) -> bool:
        active = self._active.get((client, request_id))
        if active is None:
            return False
        self._stop(active, ErrorCode.CANCELLED, "cancelled by the client")
        return True

    def cancel_all(self, reason: str = "the server is shutting down") -> None:
        for active in list(self._active.values()):
            self._stop(active, ErrorCode.CANCELLED, reason)

    async def shutdown(self, grace: float = 5.0) -> None:
        self.cancel_all()
        waits = [a.worker_done.wait() for a in list(self._active.values()) if a.running]
        if waits:
            await asyncio.wait([asyncio.ensure_future(w) for w in waits], timeout=grace)
        self._executor.shutdown(wait=False, cancel_futures=True)

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
        active.job.cancel(code.value)
        active.emit(Error(active.job.request_id, code, message))
        if not active.running:  # never started: forget it now; a running one frees on return
            queue = self._pending.get(active.model.model_id)
            if queue and active in queue:
                queue.remove(active)
            self._active.pop(active.key, None)

    def _pump(self) -> None:
        """Start queued jobs while a worker and their model are free."""
        assert self._loop is not None
        for model_id, queue in self._pending.items():
            if len(self._running_models) >= self.workers:
                return
            if queue and model_id not in self._running_models:
                active = queue.popleft()
                active.running = True
                self._running_models.add(model_id)
                future = self._loop.run_in_executor(self._executor, self._execute, active)
                future.add_done_callback(functools.partial(self._finished, active))

    def _finished(self, active: ActiveJob, _future: object = None) -> None:
        self._running_models.discard(active.model.model_id)
        self._active.pop(active.key, None)
        active.worker_done.set()
        self._pump()

    def _post(self, active: ActiveJob, event: Event) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(active.emit, event)

    # --- called on a worker thread -------------------------------------------------------
    def _progress_from_worker(self, active: ActiveJob, fraction: float, message: str) -> None:
        now = time.monotonic()
        # Throttle repeats of the same message; a new message (a notice) always goes through.
        repeat = message == active.last_message
        if fraction < 1.0 and repeat and now - active.last_progress < PROGRESS_INTERVAL:
            return
        active.last_progress, active.last_message = now, message
        self._post(active, Progress(active.job.request_id, fraction, message))

    def _execute(self, active: ActiveJob) -> None:
        job, model = active.job, active.model
        try:
            job.check_cancelled()
            if not model.loaded:
                job.progress(0.0, f"loading {model.model_id}")
                model.ensure_loaded()
            provenance = Provenance(
                model.model_id,
                model.checkpoint_hash,
                job.options.model_dump(),
                job.seed,
                job.request_id,
            )
            for output in model.run(job):
                job.check_cancelled()
                finished = self._finalise(output, job, provenance)
                self._post(active, OutputEvent(job.request_id, finished, active.outputs))
                active.outputs += 1
            job.check_cancelled()
            elapsed = time.monotonic() - job.started_at
            self._post(active, Progress(job.request_id, 1.0, "done"))
            self._post(active, Done(job.request_id, elapsed, active.outputs, provenance.as_dict()))
        except JobCancelled:
            log.info("job %s stopped (%s)", active.key, job.cancel_reason)
        except DawhostError as exc:
            self._post(active, Error.from_exception(job.request_id, exc))
        except Exception as exc:
            log.error(
                "model %s failed on %s:\n%s", model.model_id, active.key, traceback.format_exc()
            )
            message = f"model {model.model_id!r} failed: {type(exc).__name__}: {exc}"
            self._post(active, Error(job.request_id, ErrorCode.MODEL_ERROR, message))

    def _finalise(self, output: Output, job: Job, provenance: Provenance) -> Output:
        """Write audio arrays to WAV files in the job folder and stamp provenance."""
        if isinstance(output, AudioOutput):
            output = self._write_audio(output, job)
        elif isinstance(output, StemsOutput):
            stems = {
                name: self._write_audio(replace(a, name=name), job)
                for name, a in output.stems.items()
            }
            output = replace(output, stems=stems)
        elif isinstance(output, FileOutput):
            output = replace(output, path=self.work.confine(output.path))
        elif isinstance(output, NotesOutput):
            for index, note in enumerate(output.notes):
                problem = unplayable(note)
                if problem:
                    raise DawhostError(
                        ErrorCode.MODEL_ERROR,
                        f"model {provenance.model_id!r} produced an unplayable note "
                        f"(note {index} of {output.name!r}): {problem}",
                    )
        output.provenance = provenance
        return output

    def _write_audio(self, audio: AudioOutput, job: Job) -> AudioOutput:
        if audio.path is not None:
            return replace(audio, path=self.work.confine(audio.path))
        samples = audio.samples
        path = self.work.write_atomic(
            job.output_path(audio.name, ".wav"),
            lambda tmp: soundfile.write(
                tmp, samples, audio.sample_rate, subtype="FLOAT", format="WAV"
            ),
        )
        return AudioOutput(audio.sample_rate, path=path, name=audio.name)
