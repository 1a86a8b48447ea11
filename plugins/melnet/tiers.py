"""The multiscale split: a spectrogram (time, freq) as three tiers, and back.

Halving time, then frequency (the MelNet order, coarsest tier last):
  tier 1: even frames, even bins  - generated autoregressively over time and frequency;
  tier 2: even frames, odd bins   - detail in frequency, given tier 1;
  tier 3: odd frames, all bins    - detail in time, given tiers 1 and 2.
Each function works on the last two axes (..., time, freq[, channels]) of numpy arrays or torch
tensors, so the same code slices spectrograms and conditioning features.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import torch

Array = TypeVar("Array", np.ndarray, torch.Tensor)
TIERS = 3


def tier_slices(tier: int) -> tuple[slice, slice]:
    """(frame slice, bin slice) of the full grid that tier `tier` (1-based) generates."""
    return {
        1: (slice(0, None, 2), slice(0, None, 2)),
        2: (slice(0, None, 2), slice(1, None, 2)),
        3: (slice(1, None, 2), slice(None)),
    }[tier]


def take(grid: Array, tier: int, frame_axis: int = -2, bin_axis: int | None = -1) -> Array:
    """The part of `grid` tier `tier` generates. `bin_axis=None` for per-frame features."""
    frames, bins = tier_slices(tier)
    index: list[Any] = [slice(None)] * grid.ndim
    index[frame_axis] = frames
    if bin_axis is not None:
        index[bin_axis] = bins
    return grid[tuple(index)]


def _neighbour(grid: torch.Tensor, axis: int) -> torch.Tensor:
    """grid shifted by one step back along axis (entry i holds i+1), last entry repeated."""
    last = grid.narrow(axis, grid.shape[axis] - 1, 1)
    return torch.cat([grid.narrow(axis, 1, grid.shape[axis] - 1), last], dim=axis)


def lower_context(lower: torch.Tensor, tier: int, new_shape: tuple[int, int]) -> torch.Tensor:
    """The two already generated neighbours of every bin tier `tier` adds, shape
    (..., frames, bins, 2).

    Tier 2 (odd bin 2j+1): bins 2j and 2j+2 of tier 1. Tier 3 (odd frame 2j+1): frames 2j and
    2j+2 of the even-frame spectrogram. `lower` is tier 1 for tier 2, and tiers 1+2 merged for
    tier 3.
    """
    frames, bins = new_shape
    if tier == 2:
        pair = torch.stack([lower, _neighbour(lower, -1)], dim=-1)
        return pair[..., :bins, :]
    if tier == 3:
        pair = torch.stack([lower, _neighbour(lower, -2)], dim=-1)
        return pair[..., :frames, :, :]
    raise ValueError(f"tier {tier} has no lower context")


def interleave(even: torch.Tensor, odd: torch.Tensor, axis: int, total: int) -> torch.Tensor:
    """Merge even and odd entries back along `axis` into `total` entries."""
    shape = list(even.shape)
    shape[axis] = total
    merged = even.new_zeros(shape)
    index_even: list[Any] = [slice(None)] * even.ndim
    index_odd: list[Any] = [slice(None)] * even.ndim
    index_even[axis] = slice(0, None, 2)
    index_odd[axis] = slice(1, None, 2)
    merged[tuple(index_even)] = even
    merged[tuple(index_odd)] = odd
    return merged
