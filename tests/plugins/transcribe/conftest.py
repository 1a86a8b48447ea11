"""Shared fixtures: a tiny untrained transcription network (plumbing only; quality is measured
by `dawhost eval transcribe`) and audio files to feed it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from plugins.transcribe.checkpoint import save
from plugins.transcribe.network import NetConfig, TranscriptionNet

TINY = NetConfig(stem_channels=4, key_channels=8, dilations=(1, 2))


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    net = TranscriptionNet(TINY).eval()
    path = tmp_path / "tiny.pt"
    save(path, net, {"step": 0, "onset_threshold": 0.5, "frame_threshold": 0.5})
    return path


def melody(rate: int, seconds: float = 1.5, channels: int = 2) -> np.ndarray:
    """Three plucked tones (A4, C5, E5), half a second each: (frames, channels) float32."""
    t = np.arange(int(seconds * rate)) / rate
    out = np.zeros_like(t)
    for i, hz in enumerate((440.0, 523.25, 659.26)):
        at = (t >= i * 0.5) & (t < (i + 1) * 0.5)
        local = t[at] - i * 0.5
        out[at] = 0.3 * np.exp(-4 * local) * np.sin(2 * np.pi * hz * local)
    return np.repeat(out[:, None], channels, axis=1).astype(np.float32)


@pytest.fixture
def stereo_wav(tmp_path: Path) -> Path:
    path = tmp_path / "phrase.wav"
    soundfile.write(path, melody(44_100), 44_100, subtype="FLOAT")
    return path
