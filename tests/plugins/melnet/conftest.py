"""Shared fixtures: a tiny, untrained MelNet checkpoint (fast to sample, enough to test the
plumbing; quality is measured by the evaluation, not here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from plugins.melnet.network import MelNet, ModelConfig
from plugins.melnet.train import save_checkpoint

TINY = ModelConfig(hidden=8, mixtures=2, instrument_dim=2)


@pytest.fixture
def tiny_model() -> MelNet:
    torch.manual_seed(0)
    return MelNet(TINY).eval()


@pytest.fixture
def tiny_checkpoint(tmp_path: Path, tiny_model: MelNet) -> Path:
    path = tmp_path / "tiny.pt"
    save_checkpoint(tiny_model, path, steps=0)
    return path
