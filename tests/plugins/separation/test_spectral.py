"""Masks computed at 11.025 kHz land on the right bins and frames of the input-rate STFT."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from plugins.separation.spectral import inverse, masks_at_rate, spectrum, stft_size
from plugins.separation.stems import HOP, INTERNAL_RATE, N_BINS, N_FFT


def _split_masks(cutoff_hz: float, frames: int) -> torch.Tensor:
    """Stem 0 takes everything below `cutoff_hz`, stem 1 everything above."""
    hz = torch.arange(N_BINS) * INTERNAL_RATE / N_FFT
    low = (hz < cutoff_hz).float()[:, None].expand(N_BINS, frames)
    zeros = torch.zeros_like(low)
    return torch.stack([low, 1 - low, zeros, zeros])


@pytest.mark.parametrize("rate", [22_050, 44_100, 48_000])
def test_masks_follow_frequency_at_any_rate(rate: int) -> None:
    seconds = 2.0
    t = torch.arange(int(seconds * rate)) / rate
    low, high = torch.sin(2 * np.pi * 300 * t), torch.sin(2 * np.pi * 3000 * t)
    mix = spectrum((low + high)[None], rate)
    internal_frames = int(seconds * INTERNAL_RATE / HOP) + 1
    masks = masks_at_rate(_split_masks(1000.0, internal_frames), rate, mix.shape[-2], mix.shape[-1])
    assert masks.shape == (4, mix.shape[-2], mix.shape[-1])
    stems = inverse(masks[:, None] * mix[None], rate, t.numel())[:, 0]
    middle = slice(rate // 4, -rate // 4)
    error_low = (stems[0, middle] - low[middle]).pow(2).mean() / low.pow(2).mean()
    error_high = (stems[1, middle] - high[middle]).pow(2).mean() / high.pow(2).mean()
    assert error_low < 1e-2 and error_high < 1e-2


def test_above_the_internal_band_each_stem_keeps_its_top_band_share() -> None:
    rate = 44_100
    masks = torch.zeros(4, N_BINS, 20)
    masks[1, -16:] = 0.75  # stem 1 owns 75% of the top internal bins
    masks[3, -16:] = 0.25
    masks[0, :-16] = 1.0
    n_fft, _ = stft_size(rate)
    out = masks_at_rate(masks, rate, n_fft // 2 + 1, 40)
    bin_10k = round(10_000 * n_fft / rate)
    assert torch.allclose(out[:, bin_10k, 5], torch.tensor([0.0, 0.75, 0.0, 0.25]))
    bin_1k = round(1_000 * n_fft / rate)
    assert out[0, bin_1k, 5] == pytest.approx(1.0)


def test_time_interpolation_keeps_events_in_place() -> None:
    rate = 48_000
    internal_frames = 100
    masks = torch.zeros(4, N_BINS, internal_frames)
    masks[0] = 1.0
    masks[0, :, 50:] = 0.0  # stem 0 until frame 50, stem 1 after
    masks[1, :, 50:] = 1.0
    _, hop = stft_size(rate)
    frames = int(internal_frames * HOP / INTERNAL_RATE * rate / hop)
    out = masks_at_rate(masks, rate, 10, frames)
    switch_seconds = 49.5 * HOP / INTERNAL_RATE
    crossing = int(torch.nonzero(out[1, 0] >= 0.5)[0])
    assert abs(crossing * hop / rate - switch_seconds) <= hop / rate
