"""The beat network's input and targets: a log-mel spectrogram at 100 frames a second with its
half-wave-rectified first difference (where energy rises: onsets), and frame-wise beat and
downbeat targets.

100 frames a second because beat F1 allows +-70 ms: 10 ms frames leave the decoder room.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

SAMPLE_RATE = 16_000
N_FFT = 1024
HOP = 160
FPS = SAMPLE_RATE / HOP  # 100 frames a second
N_MELS = 64
F_MIN, F_MAX = 30.0, 8_000.0
N_FEATURES = 2 * N_MELS


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10 ** (mel / 2595.0) - 1.0)


def mel_filterbank() -> np.ndarray:
    """(N_MELS, N_FFT//2+1) triangular filters, each at least one STFT bin wide."""
    bins = np.arange(N_FFT // 2 + 1) * SAMPLE_RATE / N_FFT
    edges = _mel_to_hz(np.linspace(_hz_to_mel(F_MIN), _hz_to_mel(F_MAX), N_MELS + 2))
    bank = np.zeros((N_MELS, len(bins)), np.float32)
    for m in range(N_MELS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        rise = (bins - lo) / max(mid - lo, 1e-6)
        fall = (hi - bins) / max(hi - mid, 1e-6)
        bank[m] = np.clip(np.minimum(rise, fall), 0, None)
        if bank[m].sum() == 0:  # narrower than a bin: take the nearest one
            bank[m, int(np.argmin(np.abs(bins - mid)))] = 1.0
    return bank


class Frontend:
    """Mono audio at SAMPLE_RATE (batch, samples) -> features (batch, frames, N_FEATURES)."""

    def __init__(self) -> None:
        import torch

        self.window = torch.hann_window(N_FFT)
        self.bank = torch.from_numpy(mel_filterbank())

    def __call__(self, audio: torch.Tensor) -> torch.Tensor:
        return with_onsets(self.mel(audio))

    def mel(self, audio: torch.Tensor) -> torch.Tensor:
        """Log-mel magnitudes (batch, frames, N_MELS)."""
        import torch

        spec = torch.stft(
            audio,
            N_FFT,
            HOP,
            window=self.window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        ).abs()
        return torch.log1p(100.0 * torch.einsum("mf,bft->btm", self.bank, spec))


def with_onsets(mel: torch.Tensor) -> torch.Tensor:
    """Log-mel (batch, frames, N_MELS) -> features (batch, frames, N_FEATURES): the mel and
    its rise from the frame before (0 at the first frame)."""
    import torch

    diff = torch.relu(mel[:, 1:] - mel[:, :-1])
    diff = torch.cat([torch.zeros_like(mel[:, :1]), diff], dim=1)
    return torch.cat([mel, diff], dim=2)


def frames_for(samples: int) -> int:
    """Frames the frontend gives for `samples` samples (centred STFT)."""
    return samples // HOP + 1


def targets(times: np.ndarray, frames: int, offset: float = 0.0) -> np.ndarray:
    """(frames,) 1 at each event's frame, 0.5 at its neighbours (the widened targets of
    Böck et al.: an event's exact frame is arbitrary within 10 ms)."""
    out = np.zeros(frames, np.float32)
    for t in np.asarray(times) - offset:
        index = int(math.floor(t * FPS + 0.5))
        for near, value in ((index - 1, 0.5), (index + 1, 0.5), (index, 1.0)):
            if 0 <= near < frames:
                out[near] = max(out[near], value)
    return out
