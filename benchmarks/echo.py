"""The benchmarks' instant model: answers a continuation at once by echoing the primer, so the
time to its first note is the host's own cost (the baseline for a real model's first note).

It lives here rather than in tests/ because `dawhost bench` runs from an installed package,
where the tests folder is not importable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import host
from host import Capability, InputKind, InputSpec, Model, NotesOutput
from host.config import ServerConfig
from host.core import Core


class InstantEcho(Model):
    """Repeats the primer once after its end, one note per output."""

    model_id = "bench-echo"
    capabilities = frozenset({Capability.CONTINUE_MIDI})
    inputs = (InputSpec("primer", InputKind.NOTES, "notes to echo"),)
    causal = True
    description = "Repeats the primer after its end (benchmark baseline)"

    class Options(host.Options):
        pass

    def run(self, job: host.Job) -> Iterator[NotesOutput]:
        primer = job.inputs["primer"]
        first = min(n.start for n in primer)
        length = max(n.start + n.duration for n in primer) - first
        for i, note in enumerate(primer):
            job.progress((i + 1) / len(primer))
            yield NotesOutput([replace(note, start=note.start - first + length)], final=False)


def core_for(work_dir: Path, model: Model) -> Core:
    """A Core serving one model with the default settings (process executor)."""
    return Core(ServerConfig(work_dir=work_dir), {model.model_id: model})
