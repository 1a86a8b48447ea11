"""Griffin-Lim phase reconstruction from a log-mel spectrogram: the measured baseline that the
neural vocoder has to beat (it ignores f0, so its pitch comes only from the mel's harmonics)."""

from __future__ import annotations

import torch

from plugins.vocal_tts.audio import HOP, N_FFT, mel_basis


def griffin_lim(log_mel: torch.Tensor, iterations: int = 32, seed: int = 0) -> torch.Tensor:
    """(frames, N_MELS) raw log-mel -> audio (frames * HOP,)."""
    frames = log_mel.shape[0]
    magnitude = torch.linalg.pinv(mel_basis()) @ torch.exp(log_mel).T  # (bins, frames)
    magnitude = torch.cat([magnitude.clamp_min(0.0), magnitude[:, -1:].clamp_min(0.0)], dim=1)
    window = torch.hann_window(N_FFT)
    generator = torch.Generator().manual_seed(seed)
    angles = torch.exp(2j * torch.pi * torch.rand(magnitude.shape, generator=generator))
    length = frames * HOP
    audio = torch.zeros(length)
    for _ in range(iterations):
        audio = torch.istft(magnitude * angles, N_FFT, HOP, window=window, length=length)
        spectrum = torch.stft(audio, N_FFT, HOP, window=window, return_complex=True)
        angles = torch.exp(1j * torch.angle(spectrum))
    return torch.istft(magnitude * angles, N_FFT, HOP, window=window, length=length)
