"""The first tier is autoregressive: a bin's distribution never depends on itself or later
bins (later in time, or higher in the same frame); upper tiers depend only on earlier frames."""

from __future__ import annotations

import torch

from plugins.melnet.network import MelNet, ModelConfig


def _inputs(frames: int, bins: int) -> tuple[torch.Tensor, ...]:
    torch.manual_seed(1)
    return (
        torch.randn(1, frames, bins),
        torch.rand(1, frames, bins, 4),
        torch.rand(1, frames, 4),
        torch.tensor([1]),
    )


def test_first_tier_is_causal_in_time_and_frequency() -> None:
    net = MelNet(ModelConfig(hidden=8, mixtures=2, tiers=1, bins=6)).tier_nets[0]
    x, bins, frames, inst = _inputs(5, 6)
    x.requires_grad_(True)
    params = net(x, bins, frames, inst)
    t, f = 2, 3
    params[0, t, f].sum().backward()
    grad = x.grad[0].abs()
    assert grad[t, f:].sum() == 0 and grad[t + 1 :].sum() == 0
    assert grad[t, :f].sum() > 0 and grad[:t].sum() > 0  # and it does use the past


def test_upper_tier_is_causal_in_time_only() -> None:
    net = MelNet(ModelConfig(hidden=8, mixtures=2, bins=6)).tier_nets[2]
    x, bins, frames, inst = _inputs(5, 6)
    lower = torch.randn(1, 5, 6, 2)
    x.requires_grad_(True)
    net(x, lower, bins, frames, inst)[0, 2, 3].sum().backward()
    grad = x.grad[0].abs()
    assert grad[2:].sum() == 0 and grad[:2].sum() > 0


def test_multiscale_nll_covers_every_bin_once() -> None:
    model = MelNet(ModelConfig(hidden=8, mixtures=2))
    spec, bins, frames, inst = _inputs(12, 64)
    losses = model.tier_nll(spec, bins, frames, inst)
    assert len(losses) == 3 and all(torch.isfinite(loss) for loss in losses)
    single = MelNet(ModelConfig(hidden=8, mixtures=2, tiers=1))
    assert len(single.tier_nll(spec, bins, frames, inst)) == 1
