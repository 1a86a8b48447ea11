"""Cached step-by-step sampling computes exactly what the training-time network computes."""

from __future__ import annotations

import numpy as np
import torch

from plugins.melnet.conditioning import note_features
from plugins.melnet.network import MelNet
from plugins.melnet.sampling import (
    MixtureSampler,
    sample_first_tier,
    sample_spectrogram,
    sample_upper_tier,
)
from plugins.melnet.tiers import take

NOTES = np.array([[60, 100, 0.05, 0.5], [67, 70, 0.3, 0.9]], np.float32)


def _features(frames: int, tier: int) -> tuple[torch.Tensor, torch.Tensor]:
    bins, per_frame = note_features(NOTES, frames)
    return (
        torch.from_numpy(np.ascontiguousarray(take(bins, tier, -3, -2))),
        torch.from_numpy(np.ascontiguousarray(take(per_frame, tier, -2, None))),
    )


def test_cached_first_tier_matches_full_forward(tiny_model: MelNet) -> None:
    net = tiny_model.tier_nets[0]
    bins, frames = _features(24, 1)
    record: list[np.ndarray] = []
    draw = MixtureSampler(2, 1.0, np.random.default_rng(0))
    sampled = sample_first_tier(net, bins, frames, 3, draw, record=record)
    with torch.no_grad():
        full = net(torch.from_numpy(sampled)[None], bins[None], frames[None], torch.tensor([3]))
    np.testing.assert_allclose(np.stack(record), full[0].numpy(), atol=1e-5)


def test_cached_upper_tier_matches_full_forward(tiny_model: MelNet) -> None:
    net = tiny_model.tier_nets[2]
    bins, frames = _features(24, 3)
    lower = torch.randn(bins.shape[0], bins.shape[1], 2)
    record: list[np.ndarray] = []
    draw = MixtureSampler(2, 1.0, np.random.default_rng(0))
    sampled = sample_upper_tier(net, lower, bins, frames, 0, draw, record=record)
    with torch.no_grad():
        full = net(
            torch.from_numpy(sampled)[None],
            lower[None],
            bins[None],
            frames[None],
            torch.tensor([0]),
        )
    np.testing.assert_allclose(np.stack(record), full[0].numpy(), atol=1e-5)


def test_spectrogram_is_full_size_and_seeded(tiny_model: MelNet) -> None:
    bins, frames = note_features(NOTES, 31)
    reports: list[tuple[int, float]] = []
    first = sample_spectrogram(
        tiny_model, bins, frames, 1, 0.8, seed=5, progress=lambda tier, f: reports.append((tier, f))
    )
    again = sample_spectrogram(tiny_model, bins, frames, 1, 0.8, seed=5)
    other = sample_spectrogram(tiny_model, bins, frames, 1, 0.8, seed=6)
    assert first.shape == (31, 64)
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert {tier for tier, _ in reports} == {1, 2, 3}
    last = {tier: fraction for tier, fraction in reports}
    assert last == {1: 1.0, 2: 1.0, 3: 1.0}
