"""Training runs end to end on a tiny synthetic data set: it learns (loss falls on a fixed
batch), validates, and writes a checkpoint the plugin can load."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from plugins.separation.checkpoint import load_checkpoint
from plugins.separation.dataset import ExampleSampler
from plugins.separation.network import MMDenseNet
from plugins.separation.stems import INTERNAL_RATE, STEMS
from plugins.separation.train import VARIANTS, loss_fn, main, negative_sdr


def _song(seed: int, seconds: float = 2.0) -> np.ndarray:
    """Four easy stems: a high tone, noise bursts, a low tone, a mid tone."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * INTERNAL_RATE)) / INTERNAL_RATE
    bursts = rng.standard_normal(t.size) * (np.sin(2 * np.pi * 2 * t) > 0.7)
    song = np.stack(
        [
            0.3 * np.sin(2 * np.pi * rng.uniform(800, 1200) * t),
            0.2 * bursts,
            0.4 * np.sin(2 * np.pi * rng.uniform(50, 90) * t),
            0.3 * np.sin(2 * np.pi * rng.uniform(300, 500) * t),
        ]
    )
    return song.astype(np.float16)


def _data(root: Path) -> Path:
    for split, count in (("train", 4), ("val", 1)):
        (root / split).mkdir(parents=True)
        for i in range(count):
            np.save(root / split / f"song{i}.npy", _song(i + (10 if split == "val" else 0)))
    return root


@pytest.mark.parametrize("sdr_weight", [0.0, 0.05])
def test_a_few_steps_lower_the_loss(sdr_weight: float) -> None:
    torch.manual_seed(0)
    network = MMDenseNet(VARIANTS["tiny"])
    sampler = ExampleSampler({str(i): _song(i) for i in range(3)}, frames=16, seed=0)
    mix, targets = sampler.batch(4)
    before, after = fit(lambda: loss_fn(network, mix, targets, sdr_weight), network, 25)
    assert after < before - 0.2 * abs(before)


def fit(
    loss: Callable[[], torch.Tensor], model: torch.nn.Module, steps: int
) -> tuple[float, float]:
    """The loss before and after `steps` Adam steps on one fixed batch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = loss().item()
    for _ in range(steps):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    return before, loss().item()


def test_negative_sdr_is_the_sdr_and_a_silent_stem_does_not_dominate() -> None:
    rng = torch.Generator().manual_seed(0)
    targets = torch.randn(1, 2, 4000, generator=rng)
    mix = targets.sum(1)
    noise = 0.1 * torch.randn(1, 2, 4000, generator=rng)  # 20 dB below each stem
    assert negative_sdr(targets, targets + noise, mix).item() == pytest.approx(-20, abs=0.5)
    silence = torch.zeros_like(targets)
    assert negative_sdr(targets, silence, mix).item() == pytest.approx(0, abs=0.01)
    # A silent stem that receives a leak 40 dB below the mix costs little; without the floor
    # its SDR would be minus infinity.
    silent = torch.stack([targets[:, 0], torch.zeros_like(targets[:, 1])], dim=1)
    leak = silent + torch.stack([noise[:, 0], 0.01 * mix], dim=1)
    assert negative_sdr(silent, leak, silent.sum(1)).item() > -20


def test_segment_sdr_weighs_a_quiet_passage_like_a_loud_one() -> None:
    rng = torch.Generator().manual_seed(1)
    targets = torch.randn(1, 2, 4000, generator=rng)
    targets[..., 2000:] *= 0.01  # the second half is 40 dB quieter
    mix = targets.sum(1)
    # The same absolute error everywhere: 20 dB below the loud half, 20 dB above the quiet one.
    estimates = targets + 0.1 * torch.randn(1, 2, 4000, generator=rng)
    whole = negative_sdr(targets, estimates, mix).item()
    halves = [
        negative_sdr(targets[..., a:b], estimates[..., a:b], mix[..., a:b]).item()
        for a, b in ((0, 2000), (2000, 4000))
    ]
    assert whole == pytest.approx(-17, abs=0.5)  # ruled by the loud half
    segmented = negative_sdr(targets, estimates, mix, segment=2000).item()
    assert segmented == pytest.approx(sum(halves) / 2, abs=1e-4)
    assert segmented > whole + 10  # the quiet half's bad SDR now counts
    # a remainder shorter than a segment is left out
    cut = negative_sdr(targets[..., :3999], estimates[..., :3999], mix[..., :3999], 2000)
    assert cut.item() == pytest.approx(halves[0], abs=1e-4)
    with pytest.raises(ValueError, match="shorter than a segment"):
        negative_sdr(targets, estimates, mix, segment=8000)


def test_train_main_writes_a_loadable_checkpoint(tmp_path: Path) -> None:
    data = _data(tmp_path / "data")
    out = tmp_path / "run.pt"
    assert (
        main(
            [
                "--data",
                str(data),
                "--variant",
                "tiny",
                "--max-steps",
                "2",
                "--frames",
                "16",
                "--batch",
                "2",
                "--remix",
                "0.25",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    network, record = load_checkpoint(out)
    assert record["step"] == 2 and record["variant"] == "tiny" and record["remix"] == 0.25
    assert set(record["val_sdr_db"]) == {"vocals", "drums", "bass", "other", "mean"}
    log = [json.loads(line) for line in out.with_suffix(".jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 2
    assert network.config == VARIANTS["tiny"]


def test_training_goes_on_from_a_checkpoint(tmp_path: Path) -> None:
    data = _data(tmp_path / "data")
    first, second = tmp_path / "first.pt", tmp_path / "second.pt"
    common = ["--data", str(data), "--max-steps", "2", "--frames", "16", "--batch", "2"]
    assert main([*common, "--variant", "tiny", "--out", str(first)]) == 0
    assert main([*common, "--init", str(first), "--lr", "0", "--out", str(second)]) == 0
    before, _ = load_checkpoint(first)
    after, record = load_checkpoint(second)
    assert record["init"] == str(first) and record["variant"] == "tiny"
    # A zero learning rate leaves the weights as they were loaded (batch-norm statistics move).
    for (name, a), b in zip(before.state_dict().items(), after.state_dict().values(), strict=True):
        if "running" not in name and "num_batches" not in name:
            assert torch.equal(a, b), name


def test_remix_zero_keeps_whole_songs_and_remix_one_mixes_them() -> None:
    # Song i is a constant i + 1 on every stem, so an example's stems name their songs.
    songs = {str(i): np.full((len(STEMS), 4000), i + 1, np.float16) for i in range(5)}
    whole, _ = ExampleSampler(songs, frames=8, remix=0.0, gain_db=0.0).batch(16)[1].max(-1)
    mixed, _ = ExampleSampler(songs, frames=8, remix=1.0, gain_db=0.0).batch(16)[1].max(-1)
    assert all(len(set(example.tolist())) == 1 for example in whole)
    assert any(len(set(example.tolist())) > 1 for example in mixed)


@pytest.mark.parametrize("stereo", [False, True])
def test_stem_dropout_silences_stems_and_the_mix_is_the_sum_of_the_rest(stereo: bool) -> None:
    """32 frames (0.74 s) always hold a drum burst, so only dropout silences a stem."""
    songs = {str(i): _song(i) for i in range(3)}
    if stereo:
        songs = {k: np.stack([v, v * 0.5], axis=1) for k, v in songs.items()}
    sampler = ExampleSampler(songs, frames=32, seed=0, stem_dropout=0.5, stereo=stereo)
    mix, targets = sampler.batch(200)
    flat = targets.flatten(2)  # (examples, stems, samples)
    silent = (flat == 0).all(-1)  # (examples, stems)
    counts = silent.sum(1)
    # every example keeps at least one stem; about half have one to three silent
    assert counts.max() <= len(STEMS) - 1
    assert 0.35 < (counts > 0).float().mean() < 0.65
    assert set(counts[counts > 0].tolist()) == {1, 2, 3}
    assert all(silent[:, s].any() for s in range(len(STEMS)))  # any stem can be dropped
    # the mixture is exactly the sum of the stems that play
    kept = targets * (~silent).reshape(*silent.shape, *[1] * (targets.dim() - 2))
    torch.testing.assert_close(mix, kept.sum(1), rtol=0, atol=0)
    torch.testing.assert_close(mix, targets.sum(1), rtol=0, atol=0)


def test_no_stem_dropout_draws_the_batches_it_drew_before() -> None:
    songs = {str(i): _song(i) for i in range(3)}
    plain = ExampleSampler(songs, frames=32, seed=3).batch(8)
    zero = ExampleSampler(songs, frames=32, seed=3, stem_dropout=0.0).batch(8)
    torch.testing.assert_close(plain[1], zero[1], rtol=0, atol=0)
    assert not (plain[1].flatten(2) == 0).all(-1).any()
    with pytest.raises(ValueError):
        ExampleSampler(songs, frames=32, stem_dropout=1.5)


def test_stem_dropout_keeps_a_mixture_that_sounds() -> None:
    """When the stems left would all be silent (a rest everywhere), nothing is dropped, so no
    example is an empty mixture; and a silent 1 s segment does not make the loss NaN."""
    song = _song(0)
    song[1:] = 0  # only vocals play
    sampler = ExampleSampler({"a": song}, frames=32, seed=0, stem_dropout=1.0, remix=0.0)
    mix, targets = sampler.batch(64)
    assert (mix.abs().amax(-1) > 0).all()
    assert (targets[:, 0].abs().amax(-1) > 0).all()
    silent = torch.zeros(2, 4, 2 * INTERNAL_RATE)
    assert torch.isfinite(negative_sdr(silent, silent, silent.sum(1), INTERNAL_RATE))


def test_train_main_takes_stem_dropout(tmp_path: Path) -> None:
    root = _data(tmp_path / "data")
    out = tmp_path / "run.pt"
    args = ["--data", str(root), "--variant", "tiny", "--max-steps", "3", "--batch", "2"]
    args += ["--frames", "32", "--stem-dropout", "0.5", "--sdr-weight", "0.05"]
    assert main([*args, "--keep-last", "--out", str(out)]) == 0
    assert load_checkpoint(tmp_path / "run-last.pt") is not None
    record = json.loads(out.with_suffix(".jsonl").read_text().splitlines()[-1])
    assert record["stem_dropout"] == 0.5
    assert np.isfinite(record["train_loss"])


def test_the_stereo_refiner_trains_on_top_of_a_network(tmp_path: Path) -> None:
    """train_stereo's loss and validation through main: --init, --stereo, a few steps."""
    from plugins.separation.checkpoint import load_with_refiner

    root = tmp_path / "data"
    for split, count in (("train", 3), ("val", 1)):
        (root / split).mkdir(parents=True)
        for i in range(count):
            song = _song(i + (10 if split == "val" else 0))
            np.save(root / split / f"song{i}.npy", np.stack([song, song * 0.6], axis=1))
    first, stereo = tmp_path / "first.pt", tmp_path / "stereo.pt"
    common = ["--data", str(root), "--max-steps", "2", "--frames", "16", "--batch", "2"]
    assert main([*common, "--variant", "tiny", "--out", str(first)]) == 0
    assert main([*common, "--init", str(first), "--stereo", "--out", str(stereo)]) == 0
    _, refiner, record = load_with_refiner(stereo)
    assert refiner is not None and record["stereo"] and record["step"] == 2
    assert "framewise_mean" in record["val_sdr_db"]
