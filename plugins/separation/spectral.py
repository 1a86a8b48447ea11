"""STFTs at the internal rate and at the input's rate, and carrying masks from one to the other.

The network predicts masks on an 11.025 kHz, 512-point STFT. The audio is filtered on its own
rate's STFT (about the same window length in seconds, 75% overlap) so nothing above 5.5 kHz is
lost: masks are interpolated linearly in time and frequency, and above the internal band each
stem keeps the mean share it has over the top 16 internal bins.
"""

from __future__ import annotations

import torch

from plugins.separation.stems import HOP, INTERNAL_RATE, N_BINS, N_FFT

TOP_BINS = 16  # internal bins (5.2-5.5 kHz) whose mean mask extends above the internal band


def _stft(audio: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """torch.stft for any leading shape: (..., samples) -> complex (..., bins, frames)."""
    window = torch.hann_window(n_fft, device=audio.device)
    flat = audio.reshape(-1, audio.shape[-1])
    spec = torch.stft(flat, n_fft, hop, window=window, center=True, return_complex=True)
    return spec.reshape(*audio.shape[:-1], *spec.shape[-2:])


def _istft(spec: torch.Tensor, n_fft: int, hop: int, length: int) -> torch.Tensor:
    window = torch.hann_window(n_fft, device=spec.device)
    flat = spec.reshape(-1, *spec.shape[-2:])
    audio = torch.istft(flat, n_fft, hop, window=window, center=True, length=length)
    return audio.reshape(*spec.shape[:-2], length)


def internal_spectrum(mono: torch.Tensor) -> torch.Tensor:
    """(..., samples) at the internal rate -> complex (..., N_FFT // 2 + 1, frames)."""
    return _stft(mono, N_FFT, HOP)


def internal_istft(spec: torch.Tensor, length: int) -> torch.Tensor:
    """Inverse of `internal_spectrum`; accepts N_BINS bins (a zero Nyquist bin is added)."""
    if spec.shape[-2] == N_BINS:
        spec = torch.cat([spec, torch.zeros_like(spec[..., :1, :])], dim=-2)
    return _istft(spec, N_FFT, HOP, length)


def stft_size(rate: int) -> tuple[int, int]:
    """(n_fft, hop) at `rate` spanning the internal window's duration, with 75% overlap."""
    n_fft = max(64, 2 * round(N_FFT * rate / INTERNAL_RATE / 2))
    return n_fft, n_fft // 4


def spectrum(audio: torch.Tensor, rate: int) -> torch.Tensor:
    """(..., samples) at `rate` -> complex (..., bins, frames)."""
    return _stft(audio, *stft_size(rate))


def inverse(spec: torch.Tensor, rate: int, length: int) -> torch.Tensor:
    return _istft(spec, *stft_size(rate), length)


def apply_gains(gains: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
    """Real gains, (stems, bins, frames) for every channel or (stems, channels, bins, frames)
    per channel, times the complex (channels, bins, frames) mix -> complex (stems, channels,
    bins, frames), multiplied as real pairs (no complex gains)."""
    if gains.dim() == 3:
        gains = gains[:, None]
    pairs = torch.view_as_real(mix)[None] * gains[..., None]
    return torch.view_as_complex(pairs)


def _interpolate(values: torch.Tensor, positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Linear interpolation of `values` along `dim` at fractional index `positions`."""
    last = values.shape[dim] - 1
    positions = positions.clamp(0, last)
    low = positions.floor().long()
    weight = positions - low
    low_values = values.index_select(dim, low)
    if not weight.any():  # the grids line up (e.g. 44.1 kHz bins on the internal bins)
        return low_values
    high = (low + 1).clamp(max=last)
    shape = [1] * values.dim()
    shape[dim] = -1
    weight = weight.to(values.dtype).reshape(shape)
    return torch.lerp(low_values, values.index_select(dim, high), weight)


def masks_at_rate(masks: torch.Tensor, rate: int, bins: int, frames: int) -> torch.Tensor:
    """(sources, N_BINS, internal frames) masks -> (sources, bins, frames) on the STFT grid of
    `spectrum(audio, rate)`. Both STFTs are centred, so frame k sits at k * hop / rate s."""
    top = masks[:, -TOP_BINS:, :].mean(dim=1, keepdim=True)
    extended = torch.cat([masks, top], dim=1)  # bin N_BINS stands for "above the band"
    n_fft, hop = stft_size(rate)
    hz = torch.arange(bins, dtype=torch.float64) * rate / n_fft
    freq_pos = hz / (INTERNAL_RATE / N_FFT)
    # everything at or above the internal band's top bin takes the "above" mask
    freq_pos = torch.where(
        freq_pos > N_BINS - 1, torch.full_like(freq_pos, float(N_BINS)), freq_pos
    )
    time_pos = torch.arange(frames, dtype=torch.float64) * (hop / rate) / (HOP / INTERNAL_RATE)
    # Time first, on the internal bins: the frequency step usually widens the array fourfold.
    out = _interpolate(extended, time_pos.to(masks.dtype), dim=2)
    return _interpolate(out, freq_pos.to(masks.dtype), dim=1)
