"""The dawhost plugin: registers the `separation` model (vocals / drums / bass / other) and its
`dawhost train|eval|bench separation` tasks."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import host
from host import AudioOutput, BadInput, Capability, Field, InputKind, InputSpec, Model, StemsOutput

if TYPE_CHECKING:
    from plugins.separation.separate import Separator

MODEL_ID = "separation"


class StemSeparatorOptions(host.Options):
    wiener: bool = Field(
        False,
        description="Refine the stems with a multichannel Wiener "
        "filter (cleaner stereo, about 2x slower)",
    )
    trim_to_bars: bool = Field(
        False,
        description="Cut the stems to whole bars at the transport tempo and time signature",
    )


class StemSeparator(Model[StemSeparatorOptions]):
    """MMDenseLSTM masks on an 11.025 kHz STFT, applied at the input's own rate."""

    model_id = MODEL_ID
    capabilities = frozenset({Capability.SEPARATE_STEMS})
    inputs = (
        InputSpec(
            "audio",
            InputKind.AUDIO_FILE,
            "a song or loop (WAV, FLAC, AIFF or OGG; any rate; mono or stereo)",
        ),
    )
    sample_rate = None  # stems come back at the input's rate
    causal = False
    description = (
        "Splits audio into vocals, drums, bass and other (MMDenseLSTM, trained on multitracks "
        "rendered with FluidSynth); stems at the input's rate and length"
    )
    default_checkpoint = Path(__file__).resolve().parent / "checkpoints" / "separation.pt"

    def __init__(self) -> None:
        super().__init__()
        self.separator: Separator | None = None
        self.wiener_separator: Separator | None = None

    def load(self) -> None:
        import torch

        from plugins.separation.separate import Separator

        assert self.checkpoint_file is not None  # and it exists: ensure_loaded checked
        torch.set_num_threads(min(2, torch.get_num_threads()))
        self.separator = Separator.from_checkpoint(self.checkpoint_file)
        self.wiener_separator = Separator(
            self.separator.network, wiener_iterations=1, refiner=self.separator.refiner
        )

    def run(self, job: host.Job[StemSeparatorOptions]) -> Iterator[StemsOutput]:
        from plugins.separation.audio_io import check_audio
        from plugins.separation.stems import STEMS

        assert self.separator is not None and self.wiener_separator is not None
        info = check_audio(Path(job.inputs["audio"]))
        options = job.options
        length = info.frames
        if options.trim_to_bars:
            length = bars_length(info.frames, info.rate, job.transport)
        separator = self.wiener_separator if options.wiener else self.separator
        targets = {stem: job.output_path(stem, ".wav") for stem in STEMS}

        def progress(done: int, count: int) -> None:
            job.progress(done / count, f"chunk {min(done + 1, count)}/{count}")

        separator.separate_file(info.path, targets, length, progress)
        yield StemsOutput(
            {stem: AudioOutput(info.rate, path=targets[stem], name=stem) for stem in STEMS}
        )


def bars_length(frames: int, rate: int, transport: host.TransportSnapshot) -> int:
    """The longest whole number of bars (at the transport's tempo and metre) in `frames`."""
    bar_seconds = transport.beats_per_bar * transport.seconds_per_beat
    bars = math.floor(frames / rate / bar_seconds + 1e-9)
    if bars < 1:
        raise BadInput(
            "audio",
            f"is {frames / rate:.2f} s long, shorter than one bar "
            f"({bar_seconds:.2f} s at {transport.tempo:g} BPM); "
            "turn trim_to_bars off or send a longer file",
        )
    return min(frames, round(bars * bar_seconds * rate))


@host.hookimpl
def register_models() -> Iterator[Model]:
    yield StemSeparator()


_STYLES_DATA = Path(__file__).resolve().parents[2] / "data" / "separation-styles"


@host.hookimpl
def register_tasks() -> Iterator[host.Task]:
    yield host.Task.lazy(
        "train", "separation", "Train the MMDenseLSTM stem separator", "plugins.separation.train"
    )
    yield host.Task.lazy(
        "eval",
        "separation",
        "SDR per stem vs the oracle ratio mask and an HPSS baseline",
        "plugins.separation.evaluate",
        # By default the evaluation reads the many-style data's two held-out test splits (24
        # songs): build just those. build_styles writes test_style before test_soundfont, so
        # songs in test_soundfont mean both are there. `--data` points it elsewhere (the
        # chorale songs: --data data/separation --split test), and it checks that itself.
        data=host.DataNeed(
            _STYLES_DATA / "test_soundfont",
            "plugins.separation.build_styles",
            3,
            ("--only", "test_style", "--only", "test_soundfont"),
            unless=("--data",),
        ),
    )
    yield host.Task.lazy(
        "bench",
        "separation",
        "Real-time factor and peak memory of stem separation",
        "benchmarks.bench_separation",
    )
