"""Reference separations measured next to the model: the oracle ideal ratio mask (an upper bound
for any magnitude-mask method, it peeks at the true stems), the same oracle held to what the
plugin's masks can express (mono, 11.025 kHz, carried to the input's STFT), and
harmonic/percussive separation by median filtering (Fitzgerald 2010), a training-free baseline."""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import median_filter

from plugins.separation.separate import filter_with_masks, to_internal_rate
from plugins.separation.spectral import internal_spectrum, inverse, spectrum, stft_size
from plugins.separation.stems import STEMS

BASS_CUTOFF_HZ = 250.0


def oracle_irm(stems: np.ndarray, rate: int) -> np.ndarray:
    """(stems, frames, ch) true stems -> estimates with masks |S_j| / sum_k |S_k| applied to
    the mixture on the same STFT the model's output uses."""
    s = torch.from_numpy(np.ascontiguousarray(stems.transpose(0, 2, 1)))
    specs = spectrum(s, rate)  # (stems, ch, bins, frames)
    magnitude = specs.abs()
    masks = magnitude / (magnitude.sum(dim=0, keepdim=True) + 1e-12)
    estimates = inverse(masks * specs.sum(dim=0, keepdim=True), rate, stems.shape[1])
    return estimates.permute(0, 2, 1).numpy()


def oracle_internal_mask(stems: np.ndarray, rate: int, per_channel: bool = False) -> np.ndarray:
    """The ideal ratio mask computed where the network works (the mono mix at 11.025 kHz, or
    with `per_channel` each channel, as the stereo refiner's masks are) and applied through the
    plugin's own path: the ceiling of this design, below `oracle_irm` because the internal rate
    is lower, one share covers everything above 5.5 kHz and (mono) one mask serves both
    channels."""
    return filter_with_masks(
        ideal_internal_masks(stems, rate, per_channel), stems.sum(axis=0), rate
    )


def ideal_internal_masks(stems: np.ndarray, rate: int, per_channel: bool = False) -> torch.Tensor:
    """The masks of `oracle_internal_mask`, shaped as `Separator.masks` returns them."""
    if per_channel:  # (stems, channels, samples) at the internal rate
        internal = np.stack([[to_internal_rate(c, rate) for c in s.T] for s in stems])
    else:
        internal = np.stack([to_internal_rate(s.mean(axis=1), rate) for s in stems])
    magnitude = internal_spectrum(torch.from_numpy(internal.astype(np.float32)))[..., :-1, :]
    magnitude = magnitude.abs()
    return magnitude / (magnitude.sum(dim=0, keepdim=True) + 1e-12)


def hpss(mixture: np.ndarray, rate: int, kernel: int = 17) -> np.ndarray:
    """(frames, ch) mixture -> (stems, frames, ch): percussive -> drums; harmonic below
    250 Hz -> bass; harmonic above -> both vocals and other (HPSS cannot tell them apart, and
    SDR ignores the scale of an estimate)."""
    x = torch.from_numpy(np.ascontiguousarray(mixture.T))
    spec = spectrum(x, rate)  # (ch, bins, frames)
    power = spec.abs().numpy() ** 2
    harmonic = median_filter(power, size=(1, 1, kernel), mode="reflect")
    percussive = median_filter(power, size=(1, kernel, 1), mode="reflect")
    p_mask = torch.from_numpy(percussive / (harmonic + percussive + 1e-20)).float()
    h_mask = 1.0 - p_mask
    n_fft, _ = stft_size(rate)
    hz = torch.arange(spec.shape[1], dtype=torch.float32) * rate / n_fft
    low = (hz < BASS_CUTOFF_HZ).float()[None, :, None]
    masks = {
        "drums": p_mask,
        "bass": h_mask * low,
        "vocals": h_mask * (1 - low),
        "other": h_mask * (1 - low),
    }
    stacked = torch.stack([masks[name] for name in STEMS])
    out = inverse(stacked * spec[None], rate, mixture.shape[0])
    return out.permute(0, 2, 1).numpy()
