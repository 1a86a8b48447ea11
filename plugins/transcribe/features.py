"""The network's input and targets: a harmonically stacked log-frequency spectrogram at 16 kHz
and per-frame piano-roll labels (onset, frame, velocity) for the 88 piano keys.

Why this input: a 2048-point STFT mapped onto 3 bins per semitone, then the same spectrogram
shifted by the bin distance of harmonics 1/2 to 5, so that every convolution sees a pitch's
partials at one frequency position (basic-pitch's harmonic CQT, without CQT's cost: one STFT
of a 3-minute track takes well under a second on one core).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

SAMPLE_RATE = 16_000
N_FFT = 2048
HOP = 256  # 16 ms frames, 62.5 a second: well inside the 50 ms onset tolerance
FRAMES_PER_SECOND = SAMPLE_RATE / HOP
LOWEST_PITCH = 21  # A0
N_PITCHES = 88  # A0..C8
BINS_PER_SEMITONE = 3
N_BINS = N_PITCHES * BINS_PER_SEMITONE
HARMONICS = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0)


def bin_midi(index: np.ndarray | float) -> np.ndarray | float:
    """The MIDI pitch (fractional) at the centre of log-frequency bin `index`; bin 1 of each
    semitone's three sits on the equal-tempered pitch."""
    return LOWEST_PITCH + (np.asarray(index) - 1) / BINS_PER_SEMITONE


def _filterbank(harmonic: float) -> np.ndarray:
    """(N_BINS, N_FFT//2+1) triangular weights putting STFT bins on the log-frequency grid,
    for the grid multiplied by `harmonic`. Rows for bins above Nyquist are zero. At low pitches
    a triangle is narrower than one STFT bin: it then takes the interpolated STFT value."""
    fft_hz = np.arange(N_FFT // 2 + 1) * SAMPLE_RATE / N_FFT
    centres = 440.0 * 2 ** ((np.asarray(bin_midi(np.arange(N_BINS))) - 69) / 12) * harmonic
    width = 2 ** (1 / (12 * BINS_PER_SEMITONE))
    weights = np.zeros((N_BINS, fft_hz.size), np.float32)
    for row, centre in enumerate(centres):
        if centre * width >= SAMPLE_RATE / 2:
            continue
        lo, hi = centre / width, centre * width
        up = (fft_hz - lo) / (centre - lo)
        down = (hi - fft_hz) / (hi - centre)
        tri = np.maximum(0.0, np.minimum(up, down))
        if tri.sum() < 1.0:  # narrower than an STFT bin: linear interpolation at the centre
            pos = centre * N_FFT / SAMPLE_RATE
            k = int(math.floor(pos))
            tri = np.zeros_like(fft_hz)
            tri[k], tri[k + 1] = 1 - (pos - k), pos - k
        else:
            tri /= tri.sum()
        weights[row] = tri
    return weights


class Frontend:
    """Audio (batch, samples) at SAMPLE_RATE -> features (batch, len(HARMONICS), frames,
    N_BINS): log(1 + 100 * magnitude) on the log-frequency grid, one channel per harmonic."""

    def __init__(self) -> None:
        import torch

        self.window = torch.hann_window(N_FFT)
        bank = np.stack([_filterbank(h) for h in HARMONICS])  # (H, N_BINS, F)
        self.bank = torch.from_numpy(bank)

    def __call__(self, audio: torch.Tensor) -> torch.Tensor:
        import torch

        spec = torch.stft(
            audio, N_FFT, HOP, window=self.window, center=True, return_complex=True
        ).abs()  # (B, F, T)
        mapped = torch.einsum("hkf,bft->bhtk", self.bank, spec)
        return torch.log1p(100.0 * mapped)


def note_labels(
    notes: np.ndarray, frames: int, offset_seconds: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Targets for `frames` frames starting `offset_seconds` into the clip, from notes as rows
    (pitch, velocity, onset_s, offset_s): onset (one frame per note start), frame (sounding)
    and velocity/127 at onset frames, each float32 (frames, N_PITCHES)."""
    onset = np.zeros((frames, N_PITCHES), np.float32)
    frame = np.zeros((frames, N_PITCHES), np.float32)
    velocity = np.zeros((frames, N_PITCHES), np.float32)
    for pitch, vel, start, stop in notes:
        key = int(pitch) - LOWEST_PITCH
        if not 0 <= key < N_PITCHES:
            continue
        first = int(round((start - offset_seconds) * FRAMES_PER_SECOND))
        last = int(round((stop - offset_seconds) * FRAMES_PER_SECOND))
        if last < 0 or first >= frames:
            continue
        frame[max(0, first) : min(frames, max(last, first + 1)), key] = 1.0
        if 0 <= first < frames:
            onset[first, key] = 1.0
            velocity[first, key] = vel / 127.0
    return onset, frame, velocity
