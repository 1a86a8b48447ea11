"""Residual blocks added at the band nets' lowest resolution (network.py `bottleneck_blocks`,
`train.py --bottleneck-blocks`): a network grown from trained weights gives the same masks
until it learns, the blocks learn, and the grown network travels in its checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from plugins.separation.checkpoint import load_with_refiner
from plugins.separation.network import MMDenseNet
from plugins.separation.separate import Separator
from plugins.separation.train import main

from .test_stereo import _panned_song


def test_a_network_grown_by_bottleneck_blocks_gives_the_same_masks_until_trained(
    tiny_network: MMDenseNet,
) -> None:
    deeper = tiny_network.with_bottleneck_blocks(2, 6)
    assert deeper.config.bottleneck_blocks == 2 and not deeper.training
    magnitude = torch.rand(1, tiny_network.config.bins, 12)
    torch.testing.assert_close(
        deeper.masks_any_length(magnitude), tiny_network.masks_any_length(magnitude)
    )
    again = deeper.with_bottleneck_blocks(1, 6)
    assert again.config.bottleneck_blocks == 3
    torch.testing.assert_close(
        again.state_dict()["low.refine.1.body.2.weight"],
        deeper.state_dict()["low.refine.1.body.2.weight"],
    )
    with pytest.raises(ValueError, match="6 wide"):
        deeper.with_bottleneck_blocks(1, 8)
    with pytest.raises(ValueError, match="at least one"):
        tiny_network.with_bottleneck_blocks(0, 6)


def test_the_added_blocks_learn_and_the_grown_network_is_saved(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    data = tmp_path / "data"
    (data / "train").mkdir(parents=True)
    for i in range(3):
        np.save(data / "train" / f"song{i}.npy", _panned_song(i))
    out = tmp_path / "deeper.pt"
    common = ["--data", str(data), "--max-steps", "3", "--frames", "16", "--batch", "2"]
    grow = ["--bottleneck-blocks", "2", "--bottleneck-width", "6"]
    init = ["--init", str(tiny_checkpoint), "--stereo", "--network-lr", "1e-3", "--lr", "1e-2"]
    assert main([*common, *init, *grow, "--out", str(out)]) == 0
    network, refiner, record = load_with_refiner(out)
    assert network.config.bottleneck_blocks == 2 and refiner is not None
    assert record["bottleneck_blocks"] == 2
    last = network.state_dict()["full.refine.0.body.5.weight"]
    assert last.abs().max() > 0  # started at zero, moved by the --lr group
    assert Separator.from_checkpoint(out).network.config.bottleneck_width == 6
    with pytest.raises(SystemExit):  # the network has to learn for the blocks to
        main([*common, "--init", str(tiny_checkpoint), "--stereo", *grow, "--out", str(out)])
    scratch = tmp_path / "scratch.pt"
    assert main([*common, "--variant", "tiny", *grow, "--out", str(scratch)]) == 0
    assert load_with_refiner(scratch)[0].config.bottleneck_blocks == 2
