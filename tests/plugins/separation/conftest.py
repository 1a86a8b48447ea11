"""Shared fixtures: a tiny untrained separation network (enough to test the plumbing; quality
is measured by `dawhost eval separation`, not here) and audio files to feed it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from plugins.separation.checkpoint import save_checkpoint
from plugins.separation.network import MMDenseNet
from plugins.separation.train import VARIANTS


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tests share two cores with everything else; one thread avoids spin-waiting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_network() -> MMDenseNet:
    torch.manual_seed(0)
    return MMDenseNet(VARIANTS["tiny"]).eval()


@pytest.fixture
def tiny_checkpoint(tmp_path: Path, tiny_network: MMDenseNet) -> Path:
    path = tmp_path / "tiny.pt"
    save_checkpoint(path, tiny_network, {"step": 0, "variant": "tiny"})
    return path


def tone_mix(seconds: float, rate: int, channels: int = 2) -> np.ndarray:
    """A low tone, a high tone and clicks: (frames, channels) float32."""
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.3 * np.sin(2 * np.pi * 110 * t) + 0.2 * np.sin(2 * np.pi * 880 * t)
    mono[:: rate // 4] += 0.5
    pan = np.linspace(0.6, 1.0, channels)
    return (mono[:, None] * pan[None]).astype(np.float32)


@pytest.fixture
def song_file(tmp_path: Path) -> Path:
    path = tmp_path / "song.wav"
    soundfile.write(path, tone_mix(1.5, 44_100), 44_100, subtype="FLOAT")
    return path
