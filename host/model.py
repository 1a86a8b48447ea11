"""The model contract: what a plugin's model declares and the one call the host makes to run it.

A model is a class with class-level facts (id, capabilities, inputs, Options schema, sample
rate, causality) and two methods: `load()` for heavy imports and weights, called lazily where
the model runs (a worker process by default), and `run(job)`, a blocking generator that yields
outputs as they are ready. The server process keeps an unloaded copy for its declarations.
"""

from __future__ import annotations

import enum
import hashlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from host.options import Options, option_specs
from host.outputs import Output

if TYPE_CHECKING:
    from host.job import Job


class Capability(enum.StrEnum):
    """What a model can do; each capability is one request verb on every wire."""

    CONTINUE_MIDI = "continue_midi"
    RENDER_AUDIO = "render_audio"
    SEPARATE_STEMS = "separate_stems"
    SING = "sing"
    SPEAK = "speak"

    @property
    def verb(self) -> str:
        return _VERBS[self]

    @classmethod
    def from_verb(cls, verb: str) -> Capability | None:
        return next((cap for cap, name in _VERBS.items() if name == verb), None)


_VERBS = {
    Capability.CONTINUE_MIDI: "continue",
    Capability.RENDER_AUDIO: "render",
    Capability.SEPARATE_STEMS: "separate",
    Capability.SING: "sing",
    Capability.SPEAK: "speak",
}


class InputKind(enum.StrEnum):
    """How an input travels: notes as a flat list or a MIDI file path; files as paths inside
    the work folder (or an allowed input root); text as a string."""

    NOTES = "notes"  # job.inputs[name] is list[Note], or a Path to a MIDI file
    AUDIO_FILE = "audio_file"  # a Path (checked: exists, inside allowed roots)
    MIDI_FILE = "midi_file"  # a Path
    TEXT = "text"  # a str


@dataclass(frozen=True)
class InputSpec:
    name: str
    kind: InputKind
    description: str
    required: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "description": self.description,
            "required": self.required,
        }


class Model(ABC):
    """Base class for every hosted model.

    Example::

        class Echo(Model):
            model_id = "echo"
            capabilities = frozenset({Capability.CONTINUE_MIDI})
            inputs = (InputSpec("primer", InputKind.NOTES, "Notes to echo"),)

            class Options(host.Options):
                shift: float = Field(4.0, ge=0, le=16, description="Beats to shift by")

            def run(self, job):
                shift = job.options.shift
                yield NotesOutput([replace(n, start=n.start + shift) for n in job.inputs["primer"]])
    """

    model_id: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    inputs: ClassVar[tuple[InputSpec, ...]] = ()
    Options: ClassVar[type[Options]] = Options
    description: ClassVar[str] = ""
    sample_rate: ClassVar[int | None] = None  # native rate of audio it produces, if any
    causal: ClassVar[bool] = False  # True when outputs stream in time order as generated

    def __init__(self) -> None:
        # Set by the plugin manager from plugin_manifest.toml before first use.
        self.checkpoint: Path | None = None
        self.device: str = "cpu"
        self.default_options: dict[str, Any] = {}
        self._loaded = False
        self._load_lock = threading.Lock()
        self._checkpoint_hash: str | None = None

    def load(self) -> None:  # noqa: B027 - optional hook, empty by design
        """Import heavy libraries and read weights. Called once, where the model runs."""

    @abstractmethod
    def run(self, job: Job) -> Iterator[Output]:
        """Do the work for one request, yielding outputs as they are ready.

        Blocking code is fine here (it runs in a worker, off the server's event loop). Call
        `job.progress()` often: it raises `JobCancelled` once the request is cancelled or
        timed out (a model that does not is killed after the grace period).
        """

    @property
    def loaded(self) -> bool:
        return self._loaded

    def note_loaded(self, loaded: bool) -> None:
        """The host records that a worker holds (or lost) this model's weights, so the server's
        unloaded copy describes the model truthfully."""
        self._loaded = loaded

    def __getstate__(self) -> dict[str, Any]:
        """A copy for a worker: unloaded, without the lock (each side makes its own)."""
        state = dict(self.__dict__)
        del state["_load_lock"]
        state["_loaded"] = False
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._load_lock = threading.Lock()

    def ensure_loaded(self) -> None:
        with self._load_lock:
            if not self._loaded:
                self.load()
                self._loaded = True

    @property
    def checkpoint_hash(self) -> str | None:
        """First 16 hex digits of the checkpoint's SHA-256, for provenance."""
        if self._checkpoint_hash is None and self.checkpoint and self.checkpoint.is_file():
            digest = hashlib.sha256(self.checkpoint.read_bytes()).hexdigest()
            self._checkpoint_hash = digest[:16]
        return self._checkpoint_hash

    @classmethod
    def verbs(cls) -> list[str]:
        return sorted(cap.verb for cap in cls.capabilities)

    def describe(self) -> dict[str, Any]:
        """The model as every front-end lists it (`dawhost models --json`, `/dawhost/models`).
        Option defaults are the effective ones: the manifest's, else the schema's."""
        return {
            "id": self.model_id,
            "description": self.description,
            "capabilities": sorted(cap.value for cap in self.capabilities),
            "verbs": self.verbs(),
            "inputs": [spec.as_dict() for spec in self.inputs],
            "options": [
                {**spec.as_dict(), "default": self.default_options.get(spec.name, spec.default)}
                for spec in option_specs(self.Options)
            ],
            "sample_rate": self.sample_rate,
            "causal": self.causal,
            "loaded": self.loaded,
            "checkpoint": str(self.checkpoint) if self.checkpoint else None,
        }
