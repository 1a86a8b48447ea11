"""Audio constants and the log-mel spectrogram every part of vocal_tts agrees on."""

from __future__ import annotations

import functools

import numpy as np
import torch

SAMPLE_RATE = 16_000
HOP = 160  # 10 ms frames; WORLD analysis uses the same frame period
FRAME_PERIOD_MS = 1000.0 * HOP / SAMPLE_RATE
N_FFT = 1024
N_MELS = 80
LOG_FLOOR = 1e-5


@functools.cache
def mel_basis() -> torch.Tensor:
    """Slaney-style triangular mel filters, (N_MELS, N_FFT // 2 + 1)."""

    def hz_to_mel(hz: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    def mel_to_hz(mel: np.ndarray) -> np.ndarray:
        return 700.0 * (10 ** (mel / 2595.0) - 1.0)

    freqs = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = mel_to_hz(
        np.linspace(hz_to_mel(np.array(40.0)), hz_to_mel(np.array(7600.0)), N_MELS + 2)
    )
    basis = np.zeros((N_MELS, len(freqs)), dtype=np.float32)
    for m in range(N_MELS):
        lower, centre, upper = edges[m], edges[m + 1], edges[m + 2]
        rising = (freqs - lower) / (centre - lower)
        falling = (upper - freqs) / (upper - centre)
        basis[m] = np.maximum(0.0, np.minimum(rising, falling)) * 2.0 / (upper - lower)
    return torch.from_numpy(basis)


def log_mel(audio: torch.Tensor) -> torch.Tensor:
    """(..., samples) -> (..., frames, N_MELS) with frames = samples // HOP."""
    frames = audio.shape[-1] // HOP
    spec = torch.stft(
        audio, N_FFT, HOP, window=torch.hann_window(N_FFT), center=True, return_complex=True
    ).abs()
    mel = torch.matmul(mel_basis(), spec)[..., :frames]
    return torch.log(mel.clamp_min(LOG_FLOOR)).transpose(-1, -2)


def seconds_to_frames(seconds: float) -> int:
    return int(round(seconds * SAMPLE_RATE / HOP))
