"""The dawhost plugin: registers the `analyze` model (audio -> tempo, beats, downbeats and time
signature, optionally set on the transport) and its `dawhost train|eval|bench analyze` tasks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import host
from host import Capability, DataOutput, Field, InputKind, InputSpec, Model, TransportChange

if TYPE_CHECKING:
    from plugins.analyze.analyzer import Analyzer
    from plugins.analyze.decode import Analysis

MODEL_ID = "analyze"
_DATA = Path(__file__).resolve().parents[2] / "data" / "analyze"


class AnalyzeOptions(host.Options):
    apply_to_transport: bool = Field(
        False,
        description="Set dawhost's transport tempo and time signature to what was found "
        "(every client hears the transport change; MIDI clock or Link keep priority)",
    )
    meter: Literal["auto", "3/4", "4/4", "6/8"] = Field(
        "auto", description="The time signature, if you know it (auto: guess 3/4, 4/4 or 6/8)"
    )
    min_tempo: float = Field(
        40.0, ge=40.0, le=240.0, description="Slowest tempo to consider (beats a minute)"
    )
    max_tempo: float = Field(
        240.0,
        ge=40.0,
        le=240.0,
        description="Fastest tempo to consider (crossed bounds are swapped)",
    )


class BeatAnalyzer(Model[AnalyzeOptions]):
    """A dilated temporal convolutional network (beat, downbeat, tempo and meter heads) on a
    log-mel spectrogram, decoded by autocorrelation and dynamic programming."""

    model_id = MODEL_ID
    capabilities = frozenset({Capability.ANALYZE})
    inputs = (
        InputSpec(
            "audio",
            InputKind.AUDIO_FILE,
            "a recording to analyse (WAV, FLAC or OGG; any rate; mono or stereo)",
        ),
    )
    sample_rate = None
    causal = False
    description = (
        "Finds the tempo, beats, downbeats and time signature (3/4, 4/4, 6/8) of a recording; "
        "can set the transport to them"
    )

    default_checkpoint = Path(__file__).resolve().parent / "checkpoints" / "analyze.pt"

    def __init__(self) -> None:
        super().__init__()
        self.analyzer: Analyzer | None = None

    def load(self) -> None:
        import torch

        from plugins.analyze.analyzer import Analyzer

        assert self.checkpoint_file is not None  # and it exists: ensure_loaded checked
        torch.set_num_threads(min(2, torch.get_num_threads()))
        self.analyzer = Analyzer.from_checkpoint(self.checkpoint_file)

    def run(self, job: host.Job[AnalyzeOptions]) -> Iterator[DataOutput]:
        from plugins.analyze.features import SAMPLE_RATE
        from plugins.transcribe.transcriber import read_mono

        assert self.analyzer is not None
        options = job.options
        audio = read_mono(Path(job.inputs["audio"]))
        job.progress(0.1, "read audio")
        tempo_range = tuple(sorted((options.min_tempo, options.max_tempo)))
        found = self.analyzer.analyze(
            audio,
            meter=None if options.meter == "auto" else options.meter,
            tempo_range=(tempo_range[0], tempo_range[1]),
        )
        job.progress(0.95, "decoded")
        yield DataOutput(describe(found, len(audio) / SAMPLE_RATE), name="analysis")
        if options.apply_to_transport and len(found.beats) >= 2:
            numerator, denominator = found.signature
            yield TransportChange(
                tempo=round(found.quarter_tempo, 3), numerator=numerator, denominator=denominator
            )


def describe(found: Analysis, seconds: float) -> dict[str, Any]:
    """The analysis as JSON data: beats and downbeats in seconds and in quarter-note beats
    (the transport's unit; the first downbeat is beat 0, pickup beats are negative)."""
    positions = found.beat_positions()
    downbeat_positions = positions[found.first_downbeat_index :: _beats_per_bar(found)]
    numerator, denominator = found.signature
    return {
        "tempo": round(found.tempo, 3),
        "quarter_tempo": round(found.quarter_tempo, 3),
        "signature": [numerator, denominator],
        "beats_per_bar": _beats_per_bar(found),
        "beats_seconds": [round(float(t), 4) for t in found.beats],
        "beats": [round(float(b), 4) for b in positions],
        "downbeats_seconds": [round(float(t), 4) for t in found.downbeats],
        "downbeats": [round(float(b), 4) for b in downbeat_positions],
        "tempo_confidence": round(found.tempo_confidence, 4),
        "meter_probabilities": {k: round(v, 4) for k, v in found.meter_probabilities.items()},
        "seconds": round(seconds, 4),
    }


def _beats_per_bar(found: Analysis) -> int:
    from plugins.analyze.decode import BEATS_PER_BAR

    return BEATS_PER_BAR[found.meter]


@host.hookimpl
def register_models() -> Iterator[Model]:
    yield BeatAnalyzer()


@host.hookimpl
def register_tasks() -> Iterator[host.Task]:
    yield host.Task.lazy(
        "train", "analyze", "Train the beat-tracking network", "plugins.analyze.train"
    )
    yield host.Task.lazy(
        "eval",
        "analyze",
        "Tempo, beats, downbeats and meter on held-out and unlike-training renders vs librosa",
        "plugins.analyze.evaluate",
        # The test sets only: 90 held-out songs, and 45 each of another soundfont and another
        # style (about 4 minutes of FluidSynth rendering and score parsing); the corpus set is
        # built last, so it marks the whole build.
        data=host.DataNeed(
            _DATA / "test_corpus",
            "plugins.analyze.build_data",
            4,
            ("--train", "0", "--test", "90", "--other", "45"),
        ),
    )
    yield host.Task.lazy(
        "bench",
        "analyze",
        "Real-time factor of the analysis of a 3-minute track",
        "benchmarks.bench_analyze",
    )
