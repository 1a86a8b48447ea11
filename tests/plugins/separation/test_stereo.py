"""The stereo refiner: it starts as the identity on the mid masks, it can learn per-channel masks
(a stem panned hard left comes out of the left channel only), it travels in the checkpoint,
and the separator uses it on stereo input only."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from plugins.separation.baselines import oracle_internal_mask
from plugins.separation.checkpoint import load_with_refiner, save_checkpoint
from plugins.separation.dataset import ExampleSampler
from plugins.separation.metrics import sdr
from plugins.separation.network import MMDenseNet
from plugins.separation.separate import Separator
from plugins.separation.spectral import internal_spectrum
from plugins.separation.stems import INTERNAL_RATE, STEMS
from plugins.separation.stereo import SPATIAL_CUES, RefinerConfig, StereoRefiner, spatial_cues
from plugins.separation.train import VARIANTS, main
from plugins.separation.train_stereo import stereo_loss

from .conftest import tone_mix
from .test_train import _song, fit


def _panned_song(seed: int) -> np.ndarray:
    """(stems, 2, samples): vocals hard left, drums hard right, bass and other centred."""
    mono = _song(seed).astype(np.float32)
    pans = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7], [0.7, 0.7]], np.float32)
    return (mono[:, None, :] * pans[:, :, None]).astype(np.float16)


def _random_masks(shape: tuple[int, ...]) -> torch.Tensor:
    return torch.softmax(torch.randn(shape), dim=1)


def test_an_untrained_refiner_returns_the_mid_masks_for_every_channel() -> None:
    torch.manual_seed(0)
    refiner = StereoRefiner(RefinerConfig(hidden=4))
    masks = _random_masks((1, len(STEMS), 32, 12))
    mid, channels = torch.rand(1, 32, 12), torch.rand(1, 2, 32, 12)
    out = refiner(masks, mid, channels)
    assert out.shape == (1, 2, len(STEMS), 32, 12)
    torch.testing.assert_close(out, masks[:, None].expand_as(out), atol=1e-3, rtol=0)


def test_refined_masks_sum_to_one_over_stems_after_training_moves_them() -> None:
    torch.manual_seed(0)
    refiner = StereoRefiner(RefinerConfig(hidden=4))
    torch.nn.init.normal_(refiner.net[-1].weight)
    masks = _random_masks((2, len(STEMS), 16, 8))
    out = refiner(masks, torch.rand(2, 16, 8), torch.rand(2, 2, 16, 8))
    torch.testing.assert_close(out.sum(dim=2), torch.ones(2, 2, 16, 8))
    assert not torch.allclose(out[:, 0], out[:, 1])


def test_the_per_channel_oracle_splits_stems_panned_apart_and_the_mono_one_cannot() -> None:
    # vocals and drums play the same tone, one hard left and one hard right: a mask per
    # channel splits them, one mono mask gives each channel half of both (scored with the
    # plain SDR of the left channel: BSS Eval's distortion filter would forgive a scaled tone)
    rate = INTERNAL_RATE
    t = np.arange(2 * rate) / rate
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)
    stems = np.zeros((len(STEMS), t.size, 2), np.float32)
    stems[0, :, 0] = stems[1, :, 1] = tone
    stems[2] = (0.3 * np.sin(2 * np.pi * 60 * t))[:, None]
    stems[3] = (0.3 * np.sin(2 * np.pi * 2000 * t))[:, None]
    inner = slice(rate // 4, -rate // 4)  # away from the STFT's edges
    stereo = sdr(tone[inner], oracle_internal_mask(stems, rate, per_channel=True)[0, inner, 0])
    mono = sdr(tone[inner], oracle_internal_mask(stems, rate)[0, inner, 0])
    assert stereo is not None and mono is not None
    assert mono < 7.0 < 20.0 < stereo


def test_the_refiner_learns_where_stems_are_panned(tiny_network: MMDenseNet) -> None:
    torch.manual_seed(0)
    refiner = StereoRefiner(RefinerConfig(hidden=8))
    sampler = ExampleSampler(
        {str(i): _panned_song(i) for i in range(3)}, frames=16, seed=0, stereo=True
    )
    mix, targets = sampler.batch(4)
    assert mix.shape[1] == 2 and targets.shape[1:3] == (len(STEMS), 2)
    before, after = fit(lambda: stereo_loss(tiny_network, refiner, mix, targets), refiner, 40)
    assert after < 0.7 * before


def test_stereo_examples_need_songs_stored_in_stereo() -> None:
    with pytest.raises(ValueError, match="stored in stereo"):
        ExampleSampler({"a": _song(0)}, frames=16, stereo=True)
    # and a mono sampler hears a stereo song's mid channel
    mid, _ = ExampleSampler({"a": _panned_song(0)}, frames=16, remix=0.0, gain_db=0.0).batch(1)
    assert mid.shape == (1, 15 * 256)


def test_the_separator_masks_each_channel_with_a_refiner_and_mono_input_stays_mono(
    tiny_network: MMDenseNet,
) -> None:
    torch.manual_seed(1)
    refiner = StereoRefiner(RefinerConfig(hidden=4))
    torch.nn.init.normal_(refiner.net[-1].weight)
    separator = Separator(tiny_network, refiner=refiner)
    audio = tone_mix(1.2, 44_100, channels=2)
    masks = separator.masks(audio, 44_100)
    assert masks.shape[:2] == (len(STEMS), 2)
    stems = separator.separate_window(audio, 44_100)
    np.testing.assert_allclose(stems.sum(axis=0), audio, atol=1e-4)
    mono = tone_mix(1.2, 44_100, channels=1)
    assert separator.masks(mono, 44_100).dim() == 3


def test_the_checkpoint_carries_the_refiner(tmp_path: Path, tiny_network: MMDenseNet) -> None:
    plain, refined = tmp_path / "plain.pt", tmp_path / "refined.pt"
    save_checkpoint(plain, tiny_network, {"step": 0})
    refiner = StereoRefiner(RefinerConfig(hidden=4))
    torch.nn.init.normal_(refiner.net[-1].weight)
    save_checkpoint(refined, tiny_network, {"step": 0}, refiner)
    assert load_with_refiner(plain)[1] is None
    loaded = load_with_refiner(refined)[1]
    assert loaded is not None and loaded.config == refiner.config
    for a, b in zip(refiner.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert Separator.from_checkpoint(refined).refiner is not None


def test_train_stereo_keeps_the_network_and_adds_a_refiner(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    data = tmp_path / "data"
    for split, count in (("train", 3), ("val", 1)):
        (data / split).mkdir(parents=True)
        for i in range(count):
            np.save(data / split / f"song{i}.npy", _panned_song(i + (10 if split == "val" else 0)))
    out = tmp_path / "stereo.pt"
    common = ["--data", str(data), "--max-steps", "2", "--frames", "16", "--batch", "2"]
    assert main([*common, "--init", str(tiny_checkpoint), "--stereo", "--out", str(out)]) == 0
    separator = Separator.from_checkpoint(out)
    assert separator.refiner is not None
    record = json.loads(out.with_suffix(".jsonl").read_text().splitlines()[-1])
    assert record["val_sdr_db"]["framewise_mean"] == pytest.approx(
        np.mean([record["val_sdr_db"][f"framewise_{s}"] for s in STEMS])
    )
    selected = tmp_path / "selected.pt"
    framewise = ["--select", "framewise_mean", "--sdr-segment", "0.1", "--sdr-weight", "0.1"]
    assert main([*common, "--init", str(out), "--stereo", *framewise, "--out", str(selected)]) == 0
    assert json.loads(selected.with_suffix(".jsonl").read_text())["select"] == "framewise_mean"
    with pytest.raises(SystemExit):  # the mono validation has no framewise figure
        main([*common, "--select", "framewise_mean", "--out", str(selected)])
    before = Separator.from_checkpoint(tiny_checkpoint).network.state_dict()
    for name, value in separator.network.state_dict().items():
        assert torch.equal(value, before[name]), name
    with pytest.raises(SystemExit):
        main([*common, "--stereo", "--out", str(out)])  # nothing to refine
    # Without val songs each validation counts as the best so far, so the checkpoints below
    # hold the last step (two steps can lower the val score by chance).
    shutil.rmtree(data / "val")
    # with --network-lr the network learns too, and the refiner goes on from the checkpoint
    joint = tmp_path / "joint.pt"
    init = ["--init", str(out), "--stereo", "--network-lr", "1e-2", "--out", str(joint)]
    assert main([*common, *init]) == 0
    after = Separator.from_checkpoint(joint)
    assert after.refiner is not None
    assert any(
        not torch.equal(value, before[name])
        for name, value in after.network.state_dict().items()
        if "running" not in name and "num_batches" not in name
    )
    # with --spatial the network hears the stereo image as well
    spatial = tmp_path / "spatial.pt"
    init = ["--init", str(joint), "--stereo", "--network-lr", "1e-2", "--out", str(spatial)]
    assert main([*common, *init, "--spatial"]) == 0
    assert Separator.from_checkpoint(spatial).network.config.spatial_inputs == SPATIAL_CUES
    with pytest.raises(SystemExit):
        main([*common, "--init", str(joint), "--stereo", "--spatial", "--out", str(spatial)])


def test_spatial_cues_read_pan_and_width() -> None:
    tone = internal_spectrum(torch.from_numpy(tone_mix(0.5, INTERNAL_RATE, channels=1)[:, 0]))
    loud = tone.abs() > 1e-2 * tone.abs().max()

    def cues(left: torch.Tensor, right: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pan, width = spatial_cues(torch.stack([left, right])[None])[0]
        return pan[loud], width[loud]

    pan, width = cues(tone, tone)  # mono: no stereo at all
    assert pan.abs().max() < 1e-4 and width.max() < 1e-4
    pan, width = cues(tone, 0 * tone)  # hard left
    assert pan.min() > 0.99 and torch.allclose(width, torch.full_like(width, 0.5), atol=1e-3)
    pan, width = cues(tone, -tone)  # opposite phase: all side
    assert pan.abs().max() < 1e-4 and width.min() > 0.99


def test_a_network_widened_for_stereo_cues_gives_the_same_masks_until_trained(
    tiny_network: MMDenseNet,
) -> None:
    wider = tiny_network.with_spatial_inputs(SPATIAL_CUES)
    assert wider.config.spatial_inputs == SPATIAL_CUES and not wider.training
    magnitude = torch.rand(1, tiny_network.config.bins, 12)
    cues = torch.rand(1, SPATIAL_CUES, tiny_network.config.bins, 12)
    expected = tiny_network.masks_any_length(magnitude)
    torch.testing.assert_close(wider.masks_any_length(magnitude, cues), expected)
    torch.testing.assert_close(wider.masks_any_length(magnitude), expected)  # mono: no cues
    with pytest.raises(ValueError, match="already"):
        wider.with_spatial_inputs(SPATIAL_CUES)


def test_a_network_that_hears_the_pan_tells_apart_stems_the_mid_cannot() -> None:
    # The same tone, in turns: "vocals" hard left, then "drums" hard right. The mid spectra
    # are identical, so a mid-only network can only split each turn half and half.
    rate, turn = INTERNAL_RATE, INTERNAL_RATE // 4
    t = np.arange(8 * turn) / rate
    tone = torch.from_numpy((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))
    left_turns = torch.from_numpy(((np.arange(t.size) // turn) % 2 == 0).astype(np.float32))
    targets = torch.zeros(1, len(STEMS), 2, t.size)
    targets[0, 0, 0] = tone * left_turns
    targets[0, 1, 1] = tone * (1 - left_turns)
    mix = targets.sum(dim=1)
    after = {}
    for cues in (0, SPATIAL_CUES):
        torch.manual_seed(0)
        network = MMDenseNet(replace(VARIANTS["tiny"], spatial_inputs=cues)).train()
        _, after[cues] = fit(lambda n=network: stereo_loss(n, None, mix, targets), network, 60)
    assert after[SPATIAL_CUES] < 0.6 * after[0]


def test_the_separator_hands_a_network_that_reads_cues_the_stereo_image(
    tiny_network: MMDenseNet,
) -> None:
    torch.manual_seed(2)
    wider = tiny_network.with_spatial_inputs(SPATIAL_CUES)
    for first in (wider.low.first, wider.high.first, wider.full.first):
        torch.nn.init.normal_(first.weight[:, 1:], std=3.0)  # as if trained on the cues
    separator = Separator(wider)
    audio = tone_mix(1.2, 44_100, channels=2)
    masks = separator.masks(audio, 44_100)
    assert masks.shape[:2] == (len(STEMS), 2)  # one mask, for both channels
    torch.testing.assert_close(masks[:, 0], masks[:, 1])
    # a mono file with the same mid has no stereo image: its masks differ from the stereo one's
    mono = audio.mean(axis=1, keepdims=True)
    assert not torch.allclose(separator.masks(mono, 44_100), masks[:, 0], atol=1e-3)
