"""A tiny, untrained WaveNet (a few thousand weights: seconds to train and sample); quality
is measured by the evaluation, not here."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from plugins.wavenet.checkpoint import save
from plugins.wavenet.network import WaveNet, WaveNetConfig

TINY = WaveNetConfig(residual=8, skip=8, dilations=(1, 2, 4, 8, 1, 2), condition=8)


@pytest.fixture
def tiny_model() -> WaveNet:
    torch.manual_seed(0)
    return WaveNet(TINY).eval()


@pytest.fixture
def tiny_checkpoint(tmp_path: Path, tiny_model: WaveNet) -> Path:
    path = tmp_path / "tiny_wavenet.pt"
    save(tiny_model, path)
    return path


@pytest.fixture(autouse=True)
def one_thread() -> object:
    """One-sample steps are tiny matrix products: on a busy 2-core machine a second thread only
    waits for the first (the naive check ran 20x slower with two)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
