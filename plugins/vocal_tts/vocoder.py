"""A harmonic-plus-noise neural vocoder (DDSP family) that follows a given f0 exactly.

A small convolutional network reads log-mel frames and f0 and predicts, per 10 ms frame, a
loudness, the distribution of energy over the harmonics of f0, and a noise spectrum in bands.
Sinusoids at exact multiples of f0 plus filtered noise make the waveform, so pitch never
drifts from the melody, and synthesis costs a few matrix products per frame.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from plugins.vocal_tts.acoustic import ConvBlock, frame_features
from plugins.vocal_tts.audio import HOP, N_MELS, SAMPLE_RATE

NOISE_FFT = 2 * HOP  # noise is shaped in the STFT domain, one frame per 10 ms


@dataclass(frozen=True)
class VocoderConfig:
    harmonics: int = 60
    noise_bands: int = 40
    width: int = 128
    layers: int = 4
    kernel: int = 3

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class HarmonicPlusNoise(nn.Module):
    def __init__(self, config: VocoderConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.inp = nn.Linear(N_MELS + 4, w)
        self.blocks = nn.ModuleList(
            ConvBlock(w, config.kernel, d, 0.0) for d in [1, 2, 4, 8, 1, 2][: config.layers]
        )
        self.out = nn.Linear(w, 1 + config.harmonics + config.noise_bands)

    def controls(
        self, mel: torch.Tensor, f0: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """mel (batch, frames, N_MELS) normalised, f0 (batch, frames) Hz ->
        harmonic amplitudes (batch, frames, H), noise band gains (batch, frames, B)."""
        ones = torch.ones_like(f0)
        x = self.inp(torch.cat([mel, frame_features(f0, ones * 0.5, ones)], dim=-1))
        mask = torch.ones_like(x[..., :1])
        for block in self.blocks:
            x = block(x, mask)
        out = self.out(x)
        h = self.config.harmonics
        loudness = _scaled_sigmoid(out[..., :1])
        distribution = torch.softmax(out[..., 1 : 1 + h], dim=-1)
        harmonic_numbers = torch.arange(1, h + 1, device=f0.device)
        audible = (f0.unsqueeze(-1) * harmonic_numbers < SAMPLE_RATE / 2 - 200).float()
        distribution = distribution * audible
        distribution = distribution / distribution.sum(-1, keepdim=True).clamp_min(1e-7)
        voiced = (f0 > 0).float().unsqueeze(-1)
        noise = _scaled_sigmoid(out[..., 1 + h :]) * 0.1
        return loudness * distribution * voiced, noise, voiced

    def forward(
        self, mel: torch.Tensor, f0: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """-> audio (batch, frames * HOP)."""
        amplitudes, noise, _ = self.controls(mel, f0)
        return harmonic(f0, amplitudes) + filtered_noise(noise, generator)


def _scaled_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """DDSP's exponentiated sigmoid: a positive gain with a wide dynamic range."""
    return 2.0 * torch.sigmoid(x) ** math.log(10.0) + 1e-7


def _upsample(frames: torch.Tensor) -> torch.Tensor:
    """(batch, frames, channels) -> (batch, frames * HOP, channels), linear between frame
    centres."""
    x = frames.transpose(1, 2)
    x = nn.functional.interpolate(x, scale_factor=HOP, mode="linear", align_corners=False)
    return x.transpose(1, 2)


def harmonic(f0: torch.Tensor, amplitudes: torch.Tensor) -> torch.Tensor:
    """Sum of sinusoids at k * f0 (k = 1..H) with per-frame amplitudes, phase-continuous."""
    # Unvoiced frames carry f0 = 0; hold the last pitch there so the phase stays smooth.
    held = _hold(f0)
    f0_samples = _upsample(held.unsqueeze(-1))[..., 0]
    # Accumulate in float64: over a minute of audio float32 phase drifts by tenths of a radian
    # at the upper harmonics.
    phase = 2 * math.pi * torch.cumsum(f0_samples.double() / SAMPLE_RATE, dim=1)
    phase = torch.remainder(phase, 2 * math.pi).to(f0.dtype)
    # One harmonic at a time: a 30 s line would otherwise need samples x harmonics floats.
    out = torch.zeros_like(phase)
    for k in range(amplitudes.shape[-1]):
        amplitude = _upsample(amplitudes[..., k : k + 1])[..., 0]
        out = out + torch.sin(torch.remainder(phase * (k + 1), 2 * math.pi)) * amplitude
    return out


def _hold(f0: torch.Tensor) -> torch.Tensor:
    voiced = f0 > 0
    index = torch.arange(f0.shape[1], device=f0.device).expand_as(f0)
    last = torch.cummax(torch.where(voiced, index, torch.zeros_like(index)), dim=1).values
    held = torch.gather(f0, 1, last)
    return torch.where(held > 0, held, torch.full_like(held, 150.0))


def filtered_noise(bands: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """White noise shaped per frame by band gains (linearly spread over STFT bins)."""
    batch, frames, _ = bands.shape
    samples = frames * HOP
    noise = torch.rand(batch, samples, generator=generator, device=bands.device) * 2 - 1
    window = torch.hann_window(NOISE_FFT, device=bands.device)
    spec = torch.stft(noise, NOISE_FFT, HOP, window=window, center=True, return_complex=True)
    gains = nn.functional.interpolate(
        bands.transpose(1, 2).reshape(batch, 1, -1, frames),
        size=(NOISE_FFT // 2 + 1, frames),
        mode="bilinear",
        align_corners=True,
    )[:, 0]
    gains = torch.cat([gains, gains[..., -1:]], dim=-1)[..., : spec.shape[-1]]
    return torch.istft(spec * gains, NOISE_FFT, HOP, window=window, center=True, length=samples)


def multi_resolution_stft_loss(
    predicted: torch.Tensor, target: torch.Tensor, sizes: tuple[int, ...] = (1024, 512, 256, 128)
) -> torch.Tensor:
    """Spectral L1 on linear and log magnitudes at several resolutions (the DDSP loss)."""
    loss = predicted.new_zeros(())
    for size in sizes:
        window = torch.hann_window(size, device=predicted.device)
        p = torch.stft(predicted, size, size // 4, window=window, return_complex=True).abs()
        t = torch.stft(target, size, size // 4, window=window, return_complex=True).abs()
        loss = (
            loss + (p - t).abs().mean() + (torch.log(p + 1e-5) - torch.log(t + 1e-5)).abs().mean()
        )
    return loss / len(sizes)
