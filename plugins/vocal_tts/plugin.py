"""The dawhost plugin: registers the `vocal-tts` model (sing/speak) and its tasks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

import host
from host import AudioOutput, Capability, DataOutput, Field, InputKind, InputSpec, Model
from host.tasks import TaskKind
from plugins.vocal_tts.voices import SHIPPED_VOICES, VOICE_TABLE, ShippedVoice

if TYPE_CHECKING:
    from plugins.vocal_tts.checkpoint import Bundle
    from plugins.vocal_tts.synthesis import Prepared, Request
    from plugins.wavenet.vocoder import WaveNetVocoder

SAMPLE_RATE = 16_000  # plugins.vocal_tts.audio.SAMPLE_RATE, kept here so listing needs no torch
MAX_SECONDS = 60.0  # plugins.vocal_tts.synthesis.MAX_SECONDS, likewise (a test holds them equal)


# The espeak-ng front-end is one engine per process, whichever model instance calls it; the
# networks are cheap to share. (A module lock also keeps the model picklable for workers.)
_ESPEAK_LOCK = threading.Lock()


class VocalLineOptions(host.Options):
    bars: int = Field(4, ge=1, le=32, description="Length of the WAV in bars")
    # `bars` at the tempo may last at most this: the core refuses longer before queueing.
    max_seconds: ClassVar[float | None] = MAX_SECONDS
    start_bar: int = Field(
        1, ge=1, le=9999, description="Song bar the WAV starts at (notes are in song beats)"
    )
    tempo: float | None = Field(
        None, ge=20.0, le=300.0, description="Tempo in BPM; none uses the transport's tempo"
    )
    voice: ShippedVoice = Field(
        "female",
        description="Which voice sings or speaks (teacher: "
        + "; ".join(f"{name} = {VOICE_TABLE[name].description}" for name in SHIPPED_VOICES)
        + ")",
    )
    transpose: int = Field(
        0, ge=-24, le=24, description="Semitones added to the melody (speak: to the voice)"
    )
    vibrato: float = Field(
        0.0, ge=0.0, le=100.0, description="Vibrato depth in cents on held notes (sing)"
    )
    syllable_beats: float = Field(
        0.5, ge=0.125, le=4.0, description="Beats per syllable when speaking without notes"
    )
    rate: int = Field(
        170, ge=80, le=400, description="Speaking rate in words per minute (consonant length)"
    )
    vocoder: Literal["neural", "wavenet"] = Field(
        "neural",
        description="Mel to audio: the harmonic-plus-noise vocoder, or the WaveNet "
        "(sampled, slower; see plugins/wavenet)",
    )
    wavenet_folds: int = Field(
        32, ge=1, le=128, description="WaveNet vocoder: segments sampled side by side"
    )


class VocalLine(Model[VocalLineOptions]):
    """Sings lyrics on a melody, or speaks them on the beat grid, exactly `bars` bars long."""

    model_id = "vocal-tts"
    capabilities = frozenset({Capability.SING, Capability.SPEAK})
    inputs = (
        InputSpec("lyrics", InputKind.TEXT, "the words, in English"),
        InputSpec(
            "notes",
            InputKind.NOTES,
            "the melody, start/duration in song beats (or a MIDI file); one syllable per note, "
            "spare notes are a melisma on the last syllable. sing needs it; speak uses only "
            "its rhythm",
            required=False,
            required_for=frozenset({"sing"}),
        ),
    )
    sample_rate = SAMPLE_RATE
    causal = False
    description = (
        "Vocal line: espeak-ng, Festival or flite front-end (by voice), duration-driven "
        "acoustic model (Tacotron 2 family) "
        "and harmonic-plus-noise neural vocoder; a WAV exactly `bars` bars long at the tempo "
        "plus syllable timings"
    )
    default_checkpoint = Path(__file__).resolve().parent / "checkpoints" / "vocal_tts.pt"

    def __init__(self) -> None:
        super().__init__()
        self.bundle: Bundle | None = None
        self.wavenet: WaveNetVocoder | None = None

    def load(self) -> None:
        from plugins.vocal_tts.checkpoint import load

        assert self.checkpoint_file is not None  # and it exists: ensure_loaded checked
        self.bundle = load(self.checkpoint_file)
        from plugins.wavenet.checkpoint import DEFAULT_CHECKPOINT as WAVENET
        from plugins.wavenet.vocoder import WaveNetVocoder

        self.wavenet = (
            WaveNetVocoder.from_checkpoint("vocal", WAVENET) if WAVENET.is_file() else None
        )

    def run(self, job: host.Job[VocalLineOptions]) -> Iterator[AudioOutput | DataOutput]:
        import torch

        from plugins.vocal_tts.synthesis import Request, render

        options, tempo = job.options, job.tempo
        notes = job.inputs.get("notes")
        if notes is not None and not notes:
            raise host.BadInput("notes", "is an empty list; send notes or leave it out")
        mode: Literal["sing", "speak"] = "sing" if job.verb == "sing" else "speak"
        request = Request(
            lyrics=job.inputs["lyrics"],
            mode=mode,
            notes=notes,
            tempo=float(tempo),
            beats_per_bar=job.transport.beats_per_bar,
            **{
                name: getattr(options, name)
                for name in (
                    "start_bar",
                    "bars",
                    "voice",
                    "transpose",
                    "vibrato",
                    "syllable_beats",
                    "rate",
                )
            },
        )
        assert self.bundle is not None
        from plugins.vocal_tts.checkpoint import knows_voice, voices_of

        if not knows_voice(self.bundle, options.voice):
            raise host.DawhostError(
                host.ErrorCode.BAD_OPTION,
                f"voice {options.voice!r} is not in this checkpoint, which has "
                f"{', '.join(voices_of(self.bundle))}; choose one of those or retrain with "
                "`dawhost train vocal-tts`",
                field="voice",
            )
        job.progress(0.05, "phonemes and timing")
        prepared = _prepare(request)
        vocoder = options.vocoder
        if vocoder == "wavenet":
            if self.wavenet is None:
                raise host.DawhostError(
                    host.ErrorCode.MODEL_ERROR,
                    "the WaveNet checkpoint is missing; train it with `dawhost train wavenet`",
                )
            self.wavenet.folds = options.wavenet_folds
            # render reports 0.7 before vocoding and the plugin 0.95 after: sampling fills it.
            self.wavenet.progress = lambda f: job.progress(0.7 + 0.25 * f, "wavenet vocoder")
        torch.manual_seed(job.seed)
        with _ESPEAK_LOCK:
            audio = render(self.bundle, prepared, vocoder, job.progress, job.seed, self.wavenet)
        job.progress(0.95, "writing")
        yield AudioOutput(self.sample_rate, samples=audio, name="vocal")
        yield DataOutput(
            {
                "tempo": tempo,
                "start_bar": options.start_bar,
                "bars": options.bars,
                "beats_per_bar": job.transport.beats_per_bar,
                "sample_rate": self.sample_rate,
                "samples": len(audio),
                "mode": mode,
                "syllables": prepared.timings,
            },
            name="syllables",
        )
        job.progress(1.0, "done")


def _prepare(request: Request) -> Prepared:
    """`synthesis.prepare`, with a missing or failing teacher synthesiser as a model error."""
    from plugins.vocal_tts.espeak import EspeakError
    from plugins.vocal_tts.festival import FestivalError
    from plugins.vocal_tts.flite import FliteError
    from plugins.vocal_tts.synthesis import prepare

    try:
        return prepare(request)
    except (EspeakError, FestivalError, FliteError) as exc:
        raise host.DawhostError(host.ErrorCode.MODEL_ERROR, str(exc), field="voice") from exc


def _task(module: str, kind: TaskKind) -> host.Task:
    descriptions = {
        "train": "Train the acoustic model and vocoder on espeak-ng, Festival and flite "
        "teacher data (progress bar)",
        "eval": "WER (pocketsphinx) and mel-cepstral distortion per voice vs its teacher, "
        "onset error, pitch error; vs Griffin-Lim",
        "bench": "Real-time factor of an 8-bar line vs Griffin-Lim and the espeak-ng teacher",
    }
    return host.Task.lazy(kind, "vocal-tts", descriptions[kind], module)


@host.hookimpl
def register_models() -> Iterator[Model]:
    yield VocalLine()


@host.hookimpl
def register_tasks() -> Iterator[host.Task]:
    yield _task("plugins.vocal_tts.train", "train")
    yield _task("plugins.vocal_tts.evaluate", "eval")
    yield _task("benchmarks.bench_vocal_tts", "bench")
