"""Models that misbehave in every way a real one can, for the executor tests.

Each is a small honest `Model`: it raises, hangs, spins ignoring cancel, segfaults, exits, makes
NaN audio or leaks memory. The server must keep answering and every other model must still work.
"""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import host
from host import AudioOutput, Capability, Model, Note, NotesOutput


class _Fault(Model):
    capabilities = frozenset({Capability.RENDER_AUDIO})
    sample_rate = 8000


class RaisesModel(_Fault):
    model_id = "fault-raises"

    def run(self, job: host.Job) -> Iterator[AudioOutput]:
        job.progress(0.1, "about to fail")
        raise ValueError("the weights do not fit this network")
        yield  # pragma: no cover


class HangsModel(_Fault):
    """Blocks in one long call and never reaches `job.progress()` again."""

    model_id = "fault-hangs"

    def run(self, job: host.Job) -> Iterator[AudioOutput]:
        job.progress(0.1, "waiting forever")
        time.sleep(3600)
        yield AudioOutput(self.sample_rate, samples=np.zeros(8, dtype=np.float32))


class SpinsModel(_Fault):
    """Burns a core and never looks at the cancel flag."""

    model_id = "fault-spins"

    def run(self, job: host.Job) -> Iterator[AudioOutput]:
        job.progress(0.1, "spinning")
        total = 0
        while True:
            total += 1


class SegfaultModel(_Fault):
    model_id = "fault-segfault"

    def run(self, job: host.Job) -> Iterator[AudioOutput]:
        job.progress(0.1, "reading address 0")
        ctypes.string_at(0)
        yield  # pragma: no cover


class ExitsModel(_Fault):
    model_id = "fault-exits"

    def run(self, job: host.Job) -> Iterator[AudioOutput]:
        job.progress(0.1, "leaving")
        os._exit(3)
        yield  # pragma: no cover


class NanAudioModel(_Fault):
    model_id = "fault-nan"

    def run(self, job: host.Job) -> Iterator[AudioOutput]:
        audio = np.zeros(800, dtype=np.float32)
        audio[100:110] = np.nan
        yield AudioOutput(self.sample_rate, samples=audio)


class LeaksModel(_Fault):
    """Grows by 50 MB every 20 ms and keeps it, until something stops it."""

    model_id = "fault-leaks"

    def run(self, job: host.Job) -> Iterator[AudioOutput]:
        hoard = []
        while True:
            hoard.append(np.ones(50 * 2**20 // 8))  # touched, so it is resident
            job.progress(0.5, f"{len(hoard) * 50} MB")
            time.sleep(0.02)
        yield  # pragma: no cover


ALL_FAULTS = (
    RaisesModel,
    HangsModel,
    SpinsModel,
    SegfaultModel,
    ExitsModel,
    NanAudioModel,
    LeaksModel,
)


class GatedStreamer(Model):
    """Yields one note, then waits for a gate file the test creates, then yields another: if
    events were held back until the job ended, the test would never open the gate."""

    model_id = "fake-gated"
    capabilities = frozenset({Capability.CONTINUE_MIDI})
    causal = True

    def __init__(self, gate: Path) -> None:
        super().__init__()
        self.gate = gate

    def run(self, job: host.Job) -> Iterator[NotesOutput]:
        yield NotesOutput([Note(60, 100, 0.0, 1.0)], final=False)
        while not self.gate.exists():
            job.progress(0.5, "waiting for the gate")
            time.sleep(0.01)
        yield NotesOutput([Note(62, 100, 1.0, 1.0)], final=True)


@host.hookimpl
def register_models() -> Iterator[Model]:
    """Lets a manifest list `tests.faults` as a plugin module (the serve tests do)."""
    for fault in ALL_FAULTS:
        yield fault()
