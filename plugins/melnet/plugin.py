"""The dawhost plugin: registers the `melnet` render model and its train/eval/bench tasks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

import host
from host import AudioOutput, BadInput, Capability, Field, InputKind, InputSpec, Model, Note
from host.tasks import TaskKind

if TYPE_CHECKING:
    from plugins.melnet.network import MelNet
    from plugins.melnet.render import Vocoder
    from plugins.melnet.vocoder import MelVocoder
    from plugins.wavenet.vocoder import WaveNetVocoder

MAX_NOTES = 4096  # a MIDI file is not bounded by the wire's note limit
MAX_SECONDS = 32.0  # longest render accepted: sampling time grows linearly with length


class MelNetOptions(host.Options):
    instrument: Literal["piano", "guitar", "strings", "flute"] = Field(
        "piano", description="Instrument class to render (General MIDI sounds it learned)"
    )
    bars: int = Field(4, ge=1, le=16, description="Length of the render in bars")
    tempo: float | None = Field(
        None, ge=20.0, le=300.0, description="Tempo in BPM; none uses the transport's tempo"
    )
    # `bars` at the tempo may last at most this: the core refuses longer before queueing.
    max_seconds: ClassVar[float | None] = MAX_SECONDS
    temperature: float = Field(
        0.6, ge=0.1, le=1.5, description="Sampling temperature; lower is cleaner"
    )
    vocoder: Literal["neural", "griffin-lim", "wavenet"] = Field(
        "neural",
        description="Spectrogram to audio: the trained neural vocoder, Griffin-Lim "
        "(the baseline it is measured against), or the WaveNet (slower, sampled)",
    )
    normalize: bool = Field(
        True,
        description="Scale the render so its true peak is -1 dBFS (silence is never raised); "
        "off keeps the model's raw level",
    )
    normalize_to: Literal["peak", "loudness"] = Field(
        "peak",
        description="With normalize: peak sets the true peak to -1 dBFS; loudness sets the "
        "integrated loudness to -16 LUFS (ITU-R BS.1770), never over -1 dBFS true peak",
    )
    wavenet_folds: int = Field(
        32, ge=1, le=128, description="WaveNet vocoder: segments sampled side by side"
    )


class MelNetRenderer(Model[MelNetOptions]):
    """Renders notes as audio with a multiscale spectrogram model, N bars at the tempo."""

    model_id = "melnet"
    capabilities = frozenset({Capability.RENDER_AUDIO})
    inputs = (
        InputSpec(
            "notes",
            InputKind.NOTES,
            "notes to render, start/duration in beats (or a MIDI file path)",
        ),
    )
    sample_rate = 16_000
    causal = False
    description = (
        "MelNet-style multiscale spectrogram model conditioned on notes and an instrument "
        f"class; renders exactly `bars` bars at the tempo (at most {MAX_SECONDS:g} s)"
    )
    default_checkpoint = Path(__file__).resolve().parent / "checkpoints" / "melnet.pt"

    def __init__(self) -> None:
        super().__init__()
        self.network: MelNet | None = None
        self.vocoder: MelVocoder | None = None
        self.vocoder_checkpoint: Path | None = None  # None: the shipped one
        self.wavenet: WaveNetVocoder | None = None

    def load(self) -> None:
        from plugins.melnet.train import load_checkpoint

        assert self.checkpoint_file is not None  # and it exists: ensure_loaded checked
        self.network, _ = load_checkpoint(self.checkpoint_file)
        from plugins.melnet.vocoder import DEFAULT_VOCODER, load_vocoder

        # Without its checkpoint the neural vocoder is unavailable; Griffin-Lim still works.
        vocoder_path = self.vocoder_checkpoint or DEFAULT_VOCODER
        self.vocoder = load_vocoder(vocoder_path) if vocoder_path.is_file() else None
        from plugins.wavenet.checkpoint import DEFAULT_CHECKPOINT as WAVENET
        from plugins.wavenet.vocoder import WaveNetVocoder

        self.wavenet = (
            WaveNetVocoder.from_checkpoint("music", WAVENET) if WAVENET.is_file() else None
        )

    def run(self, job: host.Job[MelNetOptions]) -> Iterator[AudioOutput]:
        from plugins.melnet.conditioning import INSTRUMENTS
        from plugins.melnet.loudness import TARGET_LOUDNESS_LUFS
        from plugins.melnet.render import (
            notes_to_rows,
            overall_progress,
            render,
            sample_count,
            seconds_of,
        )

        options, tempo = job.options, job.tempo
        beats_per_bar = job.transport.beats_per_bar
        seconds = seconds_of(options.bars, beats_per_bar, tempo)  # <= max_seconds (the core)
        notes: list[Note] = list(job.inputs["notes"])
        rows = notes_to_rows(notes, 60.0 / tempo, seconds)
        if len(rows) > MAX_NOTES:
            raise BadInput(
                "notes",
                f"has {len(rows)} notes in the requested bars; melnet takes at most {MAX_NOTES}",
            )
        if len(rows) == 0:
            first = min((n.start for n in notes), default=None)
            where = f" (the first starts at beat {first:g})" if first is not None else ""
            raise BadInput(
                "notes",
                f"has no note inside the {options.bars} bars requested{where}",
            )
        assert self.network is not None
        neural = options.vocoder == "neural"
        if neural and self.vocoder is None:
            raise host.DawhostError(
                host.ErrorCode.MODEL_ERROR,
                "the neural vocoder's checkpoint is missing; train it with `dawhost train "
                "melnet-vocoder` or send vocoder griffin-lim",
            )
        vocoder: Vocoder | None = self.vocoder if neural else None
        if options.vocoder == "wavenet":
            if self.wavenet is None:
                raise host.DawhostError(
                    host.ErrorCode.MODEL_ERROR,
                    "the WaveNet checkpoint is missing; train it with `dawhost train wavenet`",
                )
            self.wavenet.folds = options.wavenet_folds
            self.wavenet.seed = job.seed
            self.wavenet.progress = lambda f: overall_progress(job.progress)(4, f)  # the vocoder
            vocoder = self.wavenet
        job.progress(0.0, "tier 1/3")
        _, audio = render(
            self.network,
            rows,
            sample_count(seconds),
            INSTRUMENTS.index(options.instrument),
            options.temperature,
            job.seed,
            overall_progress(job.progress),
            vocoder=vocoder,
            normalize=options.normalize,
            loudness_lufs=TARGET_LOUDNESS_LUFS if options.normalize_to == "loudness" else None,
        )
        yield AudioOutput(self.sample_rate, samples=audio, name="melnet")


DATA = Path(__file__).resolve().parents[2] / "data" / "melnet"


def _task(module: str, kind: TaskKind, name: str = "melnet") -> host.Task:
    descriptions = {
        "plugins.melnet.train": "Train the MelNet spectrogram model on FluidSynth renders",
        "plugins.melnet.train_vocoder": "Train MelNet's neural vocoder (spectrogram -> audio)",
        "plugins.melnet.evaluate": "Test NLL (multiscale vs single tier); renders and vocoders "
        "vs FluidSynth: log-spectral distance, onset agreement",
        "benchmarks.bench_melnet": "Real-time factor of a 4-bar render at 120 BPM vs uncached "
        "sampling, FluidSynth and Griffin-Lim",
    }
    # Training and the evaluation read the FluidSynth renders built on this machine.
    data = host.DataNeed(DATA / "index.json", "plugins.melnet.build_data", 15)
    needs_data = module in ("plugins.melnet.train", "plugins.melnet.evaluate")
    return host.Task.lazy(kind, name, descriptions[module], module, data if needs_data else None)


@host.hookimpl
def register_models() -> Iterator[Model]:
    yield MelNetRenderer()


@host.hookimpl
def register_tasks() -> Iterator[host.Task]:
    yield _task("plugins.melnet.train", "train")
    yield _task("plugins.melnet.train_vocoder", "train", "melnet-vocoder")
    yield _task("plugins.melnet.evaluate", "eval")
    yield _task("benchmarks.bench_melnet", "bench")
