"""What a model hands back: notes in beats, audio, stems, files and plain data.

Models yield these from `Model.run`; the engine writes audio to the work folder, stamps each one
with provenance and turns it into an `output` event for every front-end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Note:
    """One note on the beat grid: start and duration in beats (quarter notes)."""

    pitch: int
    velocity: int
    start: float
    duration: float

    def as_list(self) -> list[float]:
        return [self.pitch, self.velocity, self.start, self.duration]


@dataclass(frozen=True)
class Provenance:
    """Everything needed to reproduce a result."""

    model_id: str
    checkpoint_hash: str | None
    options: dict[str, Any]
    seed: int
    request_id: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "checkpoint": self.checkpoint_hash,
            "options": self.options,
            "seed": self.seed,
            "request": self.request_id,
        }


@dataclass
class NotesOutput:
    """A batch of notes. Streaming models yield several; `final=False` marks partial batches."""

    notes: list[Note]
    name: str = "notes"
    final: bool = True
    provenance: Provenance | None = None


@dataclass
class AudioOutput:
    """Audio as float samples shaped (frames, channels), or an already written file."""

    sample_rate: int
    samples: np.ndarray | None = None
    path: Path | None = None
    name: str = "audio"
    provenance: Provenance | None = None

    def __post_init__(self) -> None:
        if (self.samples is None) == (self.path is None):
            raise ValueError("AudioOutput needs exactly one of samples or path")
        if self.samples is not None and self.samples.ndim == 1:
            self.samples = self.samples[:, None]


@dataclass
class StemsOutput:
    """Separated stems by name (vocals, drums, bass, other), each at the input's rate."""

    stems: dict[str, AudioOutput]
    name: str = "stems"
    provenance: Provenance | None = None


@dataclass
class FileOutput:
    """A file the model wrote inside the job's folder (a MIDI file, say)."""

    path: Path
    media_type: str
    name: str = "file"
    provenance: Provenance | None = None


@dataclass
class DataOutput:
    """Small structured data, e.g. syllable timings; must be JSON-serialisable."""

    data: dict[str, Any] = field(default_factory=dict)
    name: str = "data"
    provenance: Provenance | None = None


@dataclass
class TransportChange(DataOutput):
    """A result that asks the host to set its transport: tempo (quarter notes a minute) and/or
    time signature, e.g. an analysis of a dropped loop. It travels like any `DataOutput` (every
    wire shows it as data named "transport"); in addition the core applies it to the server's
    transport when the output arrives, as a network source, so MIDI clock or Link keep priority
    while they drive the clock, and the transport news reaches every client as usual. The core
    adds `applied` (bool) and, when refused, `reason` to `data`."""

    tempo: float | None = None
    numerator: int | None = None
    denominator: int | None = None
    name: str = "transport"

    def __post_init__(self) -> None:
        if self.tempo is not None:
            self.data["tempo"] = self.tempo
        if self.numerator is not None and self.denominator is not None:
            self.data["signature"] = [self.numerator, self.denominator]


Output = NotesOutput | AudioOutput | StemsOutput | FileOutput | DataOutput
