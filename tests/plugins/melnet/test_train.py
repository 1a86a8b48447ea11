"""Training with a perturbed history: the perturbation drifts the level and adds noise but
never goes under silence, is off at zero, and the loss still scores the clean spectrogram."""

from __future__ import annotations

import torch

from plugins.melnet.audio import silence_level
from plugins.melnet.network import MelNet, ModelConfig
from plugins.melnet.train import perturb_history


def test_perturbation_drifts_each_crop_and_never_goes_under_silence() -> None:
    spec = torch.full((64, 40, 16), 1.0)
    spec[:, :, :4] = silence_level()
    seen = perturb_history(spec, 0.3, 0.0, torch.Generator().manual_seed(0))
    drift = seen[:, :, 8] - spec[:, :, 8]
    # a straight line in time per crop, different between crops
    middle = 0.5 * (drift[:, 0] + drift[:, -1])
    assert torch.allclose(drift[:, 20] - drift[:, 19], (drift[:, -1] - drift[:, 0]) / 39, atol=1e-5)
    assert torch.allclose(drift.mean(1), middle, atol=1e-4)
    assert 0.2 < float(drift[:, 0].std()) < 0.4
    assert float(seen.min()) >= float(torch.tensor(silence_level()))  # float32, as spec
    noisy = perturb_history(spec, 0.0, 0.1, torch.Generator().manual_seed(1))
    assert 0.08 < float((noisy - spec)[:, :, 4:].std()) < 0.12
    assert perturb_history(spec, 0.0, 0.0) is spec


def test_the_loss_scores_the_clean_spectrogram_whatever_the_history_shows() -> None:
    torch.manual_seed(0)
    model = MelNet(ModelConfig(hidden=8, mixtures=2, instrument_dim=2))
    spec = torch.randn(2, 16, 64)
    bins, frames = torch.rand(2, 16, 64, 4), torch.rand(2, 16, 4)
    instrument = torch.tensor([0, 3])
    with torch.no_grad():
        plain = model.tier_nll(spec, bins, frames, instrument)
        same = model.tier_nll(spec, bins, frames, instrument, spec.clone())
        other = model.tier_nll(spec, bins, frames, instrument, spec + 0.5)
    assert all(torch.equal(a, b) for a, b in zip(plain, same, strict=True))
    assert all(not torch.equal(a, b) for a, b in zip(plain, other, strict=True))
