"""Runs one job to the end wherever the model lives (a thread, a worker process, a Ray actor).

`run_job` drives `Model.execute` (the host's input conversion and loading, then the model's
`run`), writes audio into the job's folder, checks what the model produced and reports
everything as events through `emit`, which is called on the running thread. Every executor
uses this, so every executor sends the same events and the same errors.
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import soundfile

from host.errors import DawhostError, ErrorCode, JobCancelled
from host.job import Job
from host.model import Model
from host.notes import unplayable
from host.outputs import AudioOutput, FileOutput, NotesOutput, Output, Provenance, StemsOutput
from host.requests import Done, Error, Event, OutputEvent, Progress
from host.safe_open import pinned_inputs
from host.workfolder import WorkFolder

log = logging.getLogger(__name__)

Emit = Callable[[Event], None]
PROGRESS_INTERVAL = 0.05  # seconds between progress events; clients need no more than 20/s


class ProgressThrottle:
    """Turns `job.progress()` calls into progress events, at most one per interval for the
    same message; a new message (a notice) always goes through."""

    def __init__(self, request_id: str, emit: Emit) -> None:
        self.request_id = request_id
        self.emit = emit
        self.last_time = 0.0
        self.last_message = ""

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        repeat = message == self.last_message
        if fraction < 1.0 and repeat and now - self.last_time < PROGRESS_INTERVAL:
            return
        self.last_time, self.last_message = now, message
        self.emit(Progress(self.request_id, fraction, message))


def run_job(model: Model, job: Job, work: WorkFolder, emit: Emit) -> None:
    """Run `job` on `model`, emitting output events and then `done` or `error`.
    A cancelled job emits nothing more: the engine already told the client."""
    job._on_progress = ProgressThrottle(job.request_id, emit)
    outputs = 0
    try:
        job.check_cancelled()
        provenance = Provenance(
            model.model_id,
            model.checkpoint_hash,
            job.options.model_dump(),
            job.seed,
            job.request_id,
        )
        checked_inputs = job.inputs
        # Input files are opened here without following links, and the model reads them
        # through those descriptors: a folder swapped for a link after the check is refused.
        with pinned_inputs(checked_inputs) as job.inputs:
            try:
                for output in model.execute(job):
                    job.check_cancelled()
                    finished = finalise(output, job, work, provenance)
                    emit(OutputEvent(job.request_id, finished, outputs))
                    outputs += 1
            finally:
                job.inputs = checked_inputs
        job.check_cancelled()
        elapsed = time.monotonic() - job.started_at
        emit(Progress(job.request_id, 1.0, "done"))
        emit(Done(job.request_id, elapsed, outputs, provenance.as_dict()))
    except JobCancelled:
        log.info("job %s of %s stopped (%s)", job.request_id, model.model_id, job.cancel_reason)
    except DawhostError as exc:
        emit(Error.from_exception(job.request_id, exc))
    except Exception as exc:
        log.error(
            "model %s failed on request %s:\n%s",
            model.model_id,
            job.request_id,
            traceback.format_exc(),
        )
        message = f"model {model.model_id!r} failed: {type(exc).__name__}: {exc}"
        emit(Error(job.request_id, ErrorCode.MODEL_ERROR, message))


def finalise(output: Output, job: Job, work: WorkFolder, provenance: Provenance) -> Output:
    """Write audio arrays to WAV files in the job folder, refuse what no client can use
    (unplayable notes, non-finite audio, files outside the work folder), stamp provenance."""
    if isinstance(output, AudioOutput):
        output = write_audio(output, job, work, provenance.model_id)
    elif isinstance(output, StemsOutput):
        stems = {
            name: write_audio(replace(a, name=name), job, work, provenance.model_id)
            for name, a in output.stems.items()
        }
        output = replace(output, stems=stems)
    elif isinstance(output, FileOutput):
        output = replace(output, path=work.confine(output.path))
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


def write_audio(audio: AudioOutput, job: Job, work: WorkFolder, model_id: str) -> AudioOutput:
    if audio.path is not None:
        return replace(audio, path=work.confine(audio.path))
    samples = audio.samples
    assert samples is not None  # AudioOutput holds exactly one of samples and path
    finite = np.isfinite(samples)
    if not finite.all():
        bad = int(samples.size - np.count_nonzero(finite))
        raise DawhostError(
            ErrorCode.MODEL_ERROR,
            f"model {model_id!r} produced {bad} non-finite samples (NaN or infinity) in "
            f"{audio.name!r}; nothing was written",
        )
    if not math.isfinite(audio.sample_rate) or audio.sample_rate <= 0:
        raise DawhostError(
            ErrorCode.MODEL_ERROR,
            f"model {model_id!r} gave {audio.name!r} a sample rate of {audio.sample_rate}",
        )
    path = work.write_atomic(
        job.output_path(audio.name, ".wav"),
        lambda tmp: soundfile.write(tmp, samples, audio.sample_rate, subtype="FLOAT", format="WAV"),
    )
    return AudioOutput(audio.sample_rate, path=path, name=audio.name)
