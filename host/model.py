"""The model contract: what a plugin's model declares and the one call the host makes to run it.

A model is a class with class-level facts (id, capabilities, inputs, Options schema, sample
rate, causality, shipped checkpoint) and two methods: `load()` for heavy imports and weights,
called lazily where the model runs (a worker process by default), and `run(job)`, a blocking
generator that yields outputs as they are ready. The host calls `execute(job)`, a template
around `run` (as Neutone's `forward` around `do_forward_pass`): it reads MIDI-file inputs into
notes, checks the tempo, makes sure the checkpoint exists and the weights are loaded, so `run`
holds only the model's own work. The server process keeps an unloaded copy for its
declarations.
"""

from __future__ import annotations

import enum
import hashlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, get_args, get_origin

from host.errors import BadInput, DawhostError, ErrorCode
from host.options import Options, option_specs
from host.outputs import Output
from host.smf_reader import read_smf

if TYPE_CHECKING:
    from host.job import Job

OptionsT = TypeVar("OptionsT", bound=Options)


class Capability(enum.StrEnum):
    """What a model can do; each capability is one request verb on every wire."""

    CONTINUE_MIDI = "continue_midi"
    RENDER_AUDIO = "render_audio"
    SEPARATE_STEMS = "separate_stems"
    SING = "sing"
    SPEAK = "speak"
    TRANSCRIBE = "transcribe"
    ANALYZE = "analyze"  # audio -> tempo, beats, downbeats, time signature

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
    Capability.TRANSCRIBE: "transcribe",
    Capability.ANALYZE: "analyze",
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
    # NOTES read from a MIDI file: leave out the drum channel (10), for models that play no
    # drums; a file of drums alone is then refused.
    skip_drums: bool = False
    required_for: frozenset[str] = frozenset()  # verbs that need it even when not `required`

    def is_required(self, verb: str) -> bool:
        return self.required or verb in self.required_for

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "description": self.description,
            "required": self.required,
            "required_for": sorted(self.required_for),
        }


class Model(ABC, Generic[OptionsT]):
    """Base class for every hosted model. The type parameter is the model's Options class:
    `job.options` in `run` is typed by it, and it becomes `Options` when the class does not
    set one.

    Example::

        class EchoOptions(host.Options):
            shift: float = Field(4.0, ge=0, le=16, description="Beats to shift by")

        class Echo(Model[EchoOptions]):
            model_id = "echo"
            capabilities = frozenset({Capability.CONTINUE_MIDI})
            inputs = (InputSpec("primer", InputKind.NOTES, "Notes, or a MIDI file, to echo"),)

            def run(self, job: Job[EchoOptions]) -> Iterator[NotesOutput]:
                shift = job.options.shift  # MIDI files arrive here as notes
                yield NotesOutput([replace(n, start=n.start + shift) for n in job.inputs["primer"]])
    """

    model_id: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    inputs: ClassVar[tuple[InputSpec, ...]] = ()
    Options: ClassVar[type[Options]] = Options
    description: ClassVar[str] = ""
    sample_rate: ClassVar[int | None] = None  # native rate of audio it produces, if any
    causal: ClassVar[bool] = False  # True when outputs stream in time order as generated
    # The weights shipped with the plugin, loaded when the manifest names no checkpoint;
    # None for a model without a weights file. A missing file is one clear model_error.
    default_checkpoint: ClassVar[Path | None] = None
    trained_by: ClassVar[str] = ""  # the `dawhost train <name>` that makes it; "": model_id

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            args = get_args(base)
            if get_origin(base) is Model and args and isinstance(args[0], type):
                if "Options" not in cls.__dict__:
                    cls.Options = args[0]
                elif cls.Options is not args[0]:
                    raise TypeError(
                        f"{cls.__name__} is a Model[{args[0].__name__}] but its Options is "
                        f"{cls.Options.__name__}; declare one of them"
                    )

    def __init__(self) -> None:
        # Set by the plugin manager from plugin_manifest.toml before first use.
        self.checkpoint: Path | None = None
        self.device: str = "cpu"
        self.default_options: dict[str, Any] = {}
        self._loaded = False
        self._load_lock = threading.Lock()
        self._checkpoint_hash: str | None = None

    def load(self) -> None:  # noqa: B027 - optional hook, empty by design
        """Import heavy libraries and read weights (from `checkpoint_file`, which exists by
        then). Called once, where the model runs."""

    @abstractmethod
    def run(self, job: Job[OptionsT]) -> Iterator[Output]:
        """Do the work for one request, yielding outputs as they are ready.

        The host has done its part (see `execute`): NOTES inputs are lists of notes, the
        weights are loaded, `job.tempo` is the tempo to play at. Blocking code is fine here
        (it runs in a worker, off the server's event loop). Call `job.progress()` often: it
        raises `JobCancelled` once the request is cancelled or timed out (a model that does
        not is killed after the grace period).
        """

    def execute(self, job: Job[OptionsT]) -> Iterator[Output]:
        """The host's half of a request, then the model's `run`: what every executor calls."""
        self.prepare(job)
        if not self.loaded:
            job.progress(0.0, f"loading {self.model_id}")
            self.ensure_loaded()
        yield from self.run(job)

    def prepare(self, job: Job[OptionsT]) -> None:
        """Read each NOTES input given as a MIDI file into notes (its tempo and signature
        into `job.timelines`). Cheap, so a bad file fails before any weights are read. (Option
        values, the tempo and the `max_seconds` length were checked by the core, from the
        schema, before the job was queued.)"""
        for spec in self.inputs:
            value = job.inputs.get(spec.name)
            if spec.kind is InputKind.NOTES and isinstance(value, Path):
                read = read_smf(value, spec.name, skip_drums=spec.skip_drums)
                if not read.notes:
                    raise BadInput(spec.name, f"file {value.name} contains no notes")
                job.inputs[spec.name] = read.notes
                job.timelines[spec.name] = read.timeline

    @property
    def checkpoint_file(self) -> Path | None:
        """The weights to load: the manifest's checkpoint, else the shipped one."""
        return self.checkpoint or self.default_checkpoint

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
        """Load once; a checkpoint that is not there is a model_error saying how to make it."""
        with self._load_lock:
            if not self._loaded:
                path = self.checkpoint_file
                if path is not None and not Path(path).is_file():
                    raise DawhostError(
                        ErrorCode.MODEL_ERROR,
                        f"{self.model_id} checkpoint {path} is missing; train one with "
                        f"`dawhost train {self.trained_by or self.model_id}`",
                    )
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
