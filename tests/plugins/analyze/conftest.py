"""Shared fixtures: a tiny untrained beat network (plumbing only; quality is measured by
`dawhost eval analyze` and by the shipped-checkpoint test) and a click track to feed it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from plugins.analyze.checkpoint import save
from plugins.analyze.network import BeatNet, NetConfig

TINY = NetConfig(stem_channels=4, channels=4, dilations=(1, 2))


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    net = BeatNet(TINY).eval()
    path = tmp_path / "tiny.pt"
    save(path, net, {"step": 0})
    return path


def clicks(rate: int, tempo: float = 120.0, beats: int = 12, channels: int = 2) -> np.ndarray:
    """A metronome: a short high click on each beat, louder and lower on every fourth."""
    period = 60.0 / tempo
    out = np.zeros(int((beats * period + 0.5) * rate))
    t = np.arange(int(0.03 * rate)) / rate
    for index in range(beats):
        hz, level = (880.0, 0.6) if index % 4 == 0 else (1760.0, 0.3)
        start = int(index * period * rate)
        out[start : start + len(t)] += level * np.exp(-t * 120) * np.sin(2 * np.pi * hz * t)
    return np.repeat(out[:, None], channels, axis=1).astype(np.float32)


@pytest.fixture
def click_wav(tmp_path: Path) -> Path:
    path = tmp_path / "clicks.wav"
    soundfile.write(path, clicks(44_100), 44_100, subtype="FLOAT")
    return path
