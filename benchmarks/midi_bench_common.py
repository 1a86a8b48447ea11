"""Shared pieces of the MIDI benchmarks: a JACK peer process and a model that really computes.

`PacedSampler` is a continue_midi model whose every note costs a fixed stretch of small torch
ops in a Python loop (the shape of an autoregressive sampler's work, which holds the GIL
between ops), so note timing is measured while a model generates, for the whole playback.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import torch

import host
from host import Capability, Field, InputKind, InputSpec, Model, Note, NotesOutput


class PacedSampler(Model):
    """Streams `notes` sixteenth notes; each costs `work_ms` of torch sampling work."""

    model_id = "bench-sampler"
    capabilities = frozenset({Capability.CONTINUE_MIDI})
    inputs = (InputSpec("primer", InputKind.NOTES, "notes to continue"),)
    causal = True

    class Options(host.Options):
        notes: int = Field(240, ge=1, le=4000, description="How many notes to generate")
        work_ms: float = Field(30.0, ge=0.0, le=1000.0, description="Compute per note")

    def run(self, job: host.Job) -> Iterator[NotesOutput]:
        torch.set_num_threads(1)
        generator = torch.Generator().manual_seed(job.seed)
        weights = torch.randn(64, 128, generator=generator) * 0.1
        state = torch.randn(1, 64, generator=generator)
        for index in range(job.options.notes):
            job.progress(index / job.options.notes)
            deadline = time.monotonic() + job.options.work_ms / 1000.0
            while True:  # small ops, like a KV-cached decoder step
                state = torch.tanh(state + 0.01 * torch.randn(1, 64, generator=generator))
                logits = state @ weights
                if time.monotonic() >= deadline:
                    break
            probabilities = torch.softmax(logits[0, 36:96], dim=0)
            pitch = 36 + int(torch.multinomial(probabilities, 1, generator=generator))
            yield NotesOutput([Note(pitch, 96, index * 0.25, 0.125)], final=False)


class PeerProcess:
    """benchmarks.midi_jack_peer in a subprocess, driven over stdin/stdout."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.midi_jack_peer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        ready = json.loads(self.process.stdout.readline() or "{}")
        if not ready.get("ready"):
            raise RuntimeError("the JACK peer did not start")

    def send(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def finish(self) -> dict[str, Any]:
        self.send(quit=True)
        assert self.process.stdout is not None
        report: dict[str, Any] = json.loads(self.process.stdout.readline())
        self.process.wait(timeout=10)
        return report


def note_messages(messages: list[tuple[float, list[int]]]) -> list[tuple[float, list[int]]]:
    """Only note-on/note-off messages (what the timing is measured on)."""
    return [(t, data) for t, data in messages if data and data[0] & 0xE0 == 0x80]
