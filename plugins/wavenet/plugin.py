"""The dawhost plugin: registers `wavenet-texture` (unconditional WaveNet audio, N bars at the
tempo) and the wavenet train/eval/bench tasks. The conditional vocoder is used by vocal-tts and
melnet through their `vocoder` option."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import host
from host import AudioOutput, Capability, Field, Model
from host.tasks import TaskKind

if TYPE_CHECKING:
    from plugins.wavenet.vocoder import WaveNetVocoder

SAMPLE_RATE = 16_000
MAX_SECONDS = 32.0  # sampling time grows linearly with length


def samples_for(bars: int, beats_per_bar: float, tempo: float) -> int:
    """Exactly `bars` bars at `tempo`, in samples."""
    return int(round(bars * beats_per_bar * 60.0 / tempo * SAMPLE_RATE))


class WaveNetTextureOptions(host.Options):
    bars: int = Field(4, ge=1, le=16, description="Length of the audio in bars")
    # `bars` at the tempo may last at most this: the core refuses longer before queueing.
    max_seconds: ClassVar[float | None] = MAX_SECONDS
    tempo: float | None = Field(
        None, ge=20.0, le=300.0, description="Tempo in BPM; none uses the transport's tempo"
    )
    folds: int = Field(
        32, ge=1, le=128, description="Segments sampled side by side: more is faster"
    )
    temperature: float = Field(
        1.0, ge=0.5, le=1.5, description="Sampling temperature; lower is quieter and purer"
    )


class WaveNetTexture(Model[WaveNetTextureOptions]):
    """The WaveNet sampled without a condition: audio in the style of its training audio."""

    model_id = "wavenet-texture"
    capabilities = frozenset({Capability.RENDER_AUDIO})
    sample_rate = SAMPLE_RATE
    causal = False
    description = (
        "Unconditional WaveNet (mu-law softmax) trained on vocal-tts and melnet audio: "
        f"exactly `bars` bars of texture at the tempo (at most {MAX_SECONDS:g} s)"
    )
    default_checkpoint = Path(__file__).resolve().parent / "checkpoints" / "wavenet.pt"
    trained_by = "wavenet"

    def __init__(self) -> None:
        super().__init__()
        self.vocoder: WaveNetVocoder | None = None

    def load(self) -> None:
        from plugins.wavenet.vocoder import WaveNetVocoder

        assert self.checkpoint_file is not None  # and it exists: ensure_loaded checked
        self.vocoder = WaveNetVocoder.from_checkpoint(None, self.checkpoint_file)

    def run(self, job: host.Job[WaveNetTextureOptions]) -> Iterator[AudioOutput]:
        options, tempo = job.options, job.tempo
        samples = samples_for(options.bars, job.transport.beats_per_bar, tempo)  # max_seconds
        assert self.vocoder is not None
        self.vocoder.folds = options.folds
        self.vocoder.temperature = options.temperature
        self.vocoder.seed = job.seed
        job.progress(0.0, "sampling")
        audio = self.vocoder.vocode(None, samples, lambda f: job.progress(0.98 * f, "sampling"))
        yield AudioOutput(self.sample_rate, samples=audio, name="texture")
        job.progress(1.0, "done")


_TASKS: dict[TaskKind, tuple[str, str]] = {
    "train": ("plugins.wavenet.train", "Build the audio (if missing) and train the WaveNet"),
    "eval": (
        "plugins.wavenet.evaluate",
        "WaveNet vs the current vocoders vs Griffin-Lim: LSD, MR-STFT, pitch cents; NLL",
    ),
    "bench": (
        "benchmarks.bench_wavenet",
        "RTF naive vs cached vs cached+folded sampling, 4 bars at 120 BPM",
    ),
}


@host.hookimpl
def register_models() -> Iterator[Model]:
    yield WaveNetTexture()


_DATA = Path(__file__).resolve().parents[2] / "data" / "wavenet"


@host.hookimpl
def register_tasks() -> Iterator[host.Task]:
    # The evaluation reads held-out clips built on this machine (training builds its own).
    data = host.DataNeed(_DATA / "music_test.npz", "plugins.wavenet.build_data", 3)
    for kind, (module, description) in _TASKS.items():
        need = data if kind == "eval" else None
        yield host.Task.lazy(kind, "wavenet", description, module, need)
