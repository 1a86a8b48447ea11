"""Notes in, audio out: the rendering pipeline the plugin, evaluation and benchmark share.

notes (beats) -> rows in seconds -> note features -> sampled spectrogram (tier by tier) ->
vocoder -> exactly the requested number of samples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from host.outputs import Note
from plugins.melnet.audio import SAMPLE_RATE, frames_for, griffin_lim, mel_to_linear
from plugins.melnet.conditioning import note_features
from plugins.melnet.loudness import limit_peak, normalise
from plugins.melnet.network import MelNet
from plugins.melnet.sampling import Progress, sample_spectrogram


class Vocoder(Protocol):
    """Spectrogram (frames, N_MELS) -> exactly `samples` samples: MelVocoder, WaveNetVocoder."""

    def vocode(self, spec: np.ndarray, samples: int) -> np.ndarray: ...


# How much of a render each stage takes, for one progress bar across tiers and the vocoder.
STAGE_WEIGHTS = {1: 0.55, 2: 0.15, 3: 0.15, 4: 0.15}


def notes_to_rows(notes: Sequence[Note], seconds_per_beat: float, seconds: float) -> np.ndarray:
    """Rows (pitch, velocity, start_s, end_s) of the notes that start before `seconds`."""
    rows = [
        (
            n.pitch,
            n.velocity,
            n.start * seconds_per_beat,
            min(seconds, (n.start + n.duration) * seconds_per_beat),
        )
        for n in notes
        if n.start * seconds_per_beat < seconds and n.duration > 0
    ]
    return np.asarray(rows, dtype=np.float32).reshape(-1, 4)


def overall_progress(report: Callable[[float, str], None]) -> Progress:
    """Turn (tier, fraction-of-tier) into one 0..1 fraction over the whole render."""

    def progress(tier: int, fraction: float) -> None:
        done = sum(weight for stage, weight in STAGE_WEIGHTS.items() if stage < tier)
        label = f"tier {tier}/3" if tier <= 3 else "vocoder"
        report(done + STAGE_WEIGHTS[tier] * fraction, label)

    return progress


def render(
    model: MelNet,
    rows: np.ndarray,
    samples: int,
    instrument: int,
    temperature: float,
    seed: int,
    progress: Progress | None = None,
    griffin_lim_iterations: int = 32,
    vocoder: Vocoder | None = None,
    normalize: bool = True,
    loudness_lufs: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample a spectrogram for note rows and vocode it (with `vocoder`, else Griffin-Lim);
    returns (spectrogram, audio) with audio exactly `samples` long, its true peak at -1 dBFS
    with `normalize` (or its loudness at `loudness_lufs` under that peak; loudness.py), else
    only kept from clipping."""
    bin_feats, frame_feats = note_features(rows, frames_for(samples))
    spec = sample_spectrogram(
        model, bin_feats, frame_feats, instrument, temperature, seed, progress
    )
    if progress is not None:
        progress(4, 0.0)
    audio = vocode(spec, samples, vocoder, griffin_lim_iterations, seed)
    audio = normalise(audio, loudness_lufs=loudness_lufs) if normalize else limit_peak(audio)
    if progress is not None:
        progress(4, 1.0)
    return spec, audio


def vocode(
    spec: np.ndarray,
    samples: int,
    vocoder: Vocoder | None = None,
    griffin_lim_iterations: int = 32,
    seed: int = 0,
) -> np.ndarray:
    """Spectrogram -> exactly `samples` samples: the neural vocoder, or Griffin-Lim without."""
    if vocoder is not None:
        return vocoder.vocode(spec, samples)
    return griffin_lim(mel_to_linear(spec), samples, griffin_lim_iterations, seed)


def seconds_of(bars: int, beats_per_bar: float, tempo: float) -> float:
    return bars * beats_per_bar * 60.0 / tempo


def sample_count(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE)
