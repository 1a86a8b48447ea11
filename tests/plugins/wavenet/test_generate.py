"""Cached sampling computes what the plain forward pass computes; folding keeps exact lengths."""

from __future__ import annotations

import pytest
import torch

from plugins.wavenet.generate import cached_generate, fold_plan, folded_generate, naive_generate
from plugins.wavenet.mulaw import decode, encode
from plugins.wavenet.network import WaveNet


def _condition(model: WaveNet, frames: int = 12, front_end: str = "vocal") -> torch.Tensor:
    torch.manual_seed(1)
    bins = model.conditioners[front_end].front_end.bins
    with torch.no_grad():
        mel = torch.randn(1, frames, bins, dtype=model.unconditional.dtype) * 2 - 5
        return model.frame_condition(mel, front_end)


def test_mu_law_round_trip_is_within_one_class() -> None:
    audio = torch.linspace(-1, 1, 2001)
    classes = encode(audio)
    assert classes.min() == 0 and classes.max() == 255
    assert (encode(decode(classes)) == classes).all()


@pytest.mark.parametrize("front_end", ["vocal", "music", None])
def test_cached_generation_draws_what_the_full_forward_draws(
    tiny_model: WaveNet, front_end: str | None
) -> None:
    # float64 so the two orders of summation cannot land a draw on different sides of a
    # class boundary; longer than the receptive field, so the queues wrap around.
    model = tiny_model.double()
    if front_end is None:
        condition = model.frame_condition(None, None).detach()
    else:
        condition = _condition(model, front_end=front_end)
    hop = 160 if front_end != "music" else 256
    steps = 3 * model.config.receptive_field
    uniforms = torch.rand(1, steps, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    naive = naive_generate(model, condition, hop, steps, uniforms)
    cached = cached_generate(model, condition, hop, steps, uniforms)
    assert torch.equal(naive, cached)
    assert naive.abs().sum() > 0  # it sampled something


def test_rows_started_later_follow_the_condition_at_their_position(tiny_model: WaveNet) -> None:
    model = tiny_model.double()
    condition = _condition(model)
    uniforms = torch.rand(2, 100, dtype=torch.float64)
    both = cached_generate(model, condition, 160, 100, uniforms, starts=torch.tensor([0, 700]))
    alone = naive_generate(model, condition, 160, 100, uniforms[1:], start=700)
    assert torch.equal(both[1:], alone)


@pytest.mark.parametrize(("samples", "folds"), [(1, 8), (999, 1), (12_345, 8), (40_000, 32)])
def test_folded_output_has_the_exact_length(tiny_model: WaveNet, samples: int, folds: int) -> None:
    audio = folded_generate(tiny_model, _condition(tiny_model), 160, samples, folds, overlap=200)
    assert audio.shape == (samples,)
    assert torch.isfinite(audio).all()


def test_folding_cuts_the_steps_by_about_the_fold_count() -> None:
    assert fold_plan(128_000, 1, 1000) == (1, 128_000, 128_000)
    folds, segment, steps = fold_plan(128_000, 32, 1000)
    assert (folds, segment, steps) == (32, 4000, 5000)
    assert fold_plan(1500, 32, 1000)[0] == 1  # too short to fold


def test_one_fold_is_plain_cached_sampling(tiny_model: WaveNet) -> None:
    condition = _condition(tiny_model)
    folded = folded_generate(
        tiny_model, condition, 160, 500, folds=1, generator=torch.Generator().manual_seed(5)
    )
    uniforms = torch.rand(1, 500, generator=torch.Generator().manual_seed(5))
    assert torch.equal(folded, cached_generate(tiny_model, condition, 160, 500, uniforms)[0])
