"""What crosses into a worker: models (pickled, or rebuilt from their class), jobs without
their callbacks, and how a dead worker's end is put into words."""

from __future__ import annotations

import pickle
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import host
from host import Capability, Model, NotesOutput
from host.executor_process import how_it_died
from host.job import Job
from host.transport import Transport
from host.worker import (
    MEMORY_EXIT_CODE,
    ModelRecipe,
    ModelWorker,
    WorkerSpec,
    rebuild,
    transferable,
)
from tests.fakes import EchoContinuer


class HoldsALock(Model):
    model_id = "holds-a-lock"
    capabilities = frozenset({Capability.CONTINUE_MIDI})

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()  # does not pickle: the worker rebuilds the model

    def run(self, job: host.Job) -> Iterator[NotesOutput]:
        yield NotesOutput([])


def test_a_model_that_does_not_pickle_is_rebuilt_with_its_settings() -> None:
    model = HoldsALock()
    model.checkpoint = Path("/models/x.pt")
    model.default_options = {"a": 1}
    payload = transferable(model)
    assert isinstance(pickle.loads(payload), ModelRecipe)
    copy = rebuild(payload)
    assert isinstance(copy, HoldsALock) and copy is not model
    assert copy.checkpoint == Path("/models/x.pt") and copy.default_options == {"a": 1}


def test_a_model_defined_inside_a_function_travels_by_value() -> None:
    class Local(EchoContinuer):
        model_id = "local"

    model = Local()
    model.note_loaded(True)
    copy = rebuild(transferable(model))
    assert copy.model_id == "local" and type(copy).__name__ == "Local"
    assert not copy.loaded  # a worker's copy starts without weights
    assert copy.ensure_loaded() is None and copy.loaded  # and has a working lock


def test_a_job_pickles_without_its_callback_and_keeps_its_cancel_flag(tmp_path: Path) -> None:
    calls: list[float] = []
    job = Job(
        "r1",
        "fake-echo",
        "continue",
        EchoContinuer.Options(),
        {},
        7,
        Transport().snapshot(),
        tmp_path,
    )
    job._on_progress = lambda fraction, message: calls.append(fraction)
    job.cancel("timeout")
    copy = pickle.loads(pickle.dumps(job))
    assert copy.cancelled and copy.cancel_reason == "timeout"
    copy._on_progress(0.5, "")  # goes nowhere, not to this process's callback
    assert calls == [] and copy.seed == 7 and copy.options == job.options


def test_a_dead_worker_is_described_by_signal_or_exit_code() -> None:
    assert how_it_died(-signal.SIGSEGV, 0) == "was killed by signal SIGSEGV"
    assert how_it_died(-signal.SIGKILL, 0) == "was killed by signal SIGKILL"
    assert how_it_died(3, 0) == "exited with code 3"
    assert "memory limit of 500 MB" in how_it_died(MEMORY_EXIT_CODE, 500)
    assert how_it_died(MEMORY_EXIT_CODE, 0) == f"exited with code {MEMORY_EXIT_CODE}"


def _worker(tmp_path: Path) -> ModelWorker:
    return ModelWorker(WorkerSpec(transferable(EchoContinuer()), tmp_path, ()))


def _job(tmp_path: Path, started_at: float) -> Job:
    return Job(
        "same",
        "fake-echo",
        "continue",
        EchoContinuer.Options(),
        {},
        1,
        Transport().snapshot(),
        tmp_path,
        started_at=started_at,
    )


def test_a_cancel_that_overtakes_its_job_still_stops_it(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    job = _job(tmp_path, 1.0)
    worker.cancel(ModelWorker.key(job), "timeout")  # the job is still on its way
    worker.register(job)
    assert job.cancelled and job.cancel_reason == "timeout"


def test_a_late_cancel_does_not_stop_the_next_job_with_the_same_id(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    first, second = _job(tmp_path, 1.0), _job(tmp_path, 2.0)
    events: list[object] = []
    worker.run(first, events.append)  # ends (with an error: no primer) before the cancel
    worker.cancel(ModelWorker.key(first), "cancelled")
    worker.register(second)
    assert events and not second.cancelled
