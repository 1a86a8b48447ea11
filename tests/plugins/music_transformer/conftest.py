"""Shared fixtures: a tiny, untrained Music Transformer checkpoint (fast to sample, enough to
test the plumbing; quality is measured by the evaluation, not here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from plugins.music_transformer.checkpoint import save_weights
from plugins.music_transformer.events import VOCAB_SIZE
from plugins.music_transformer.model import ModelConfig, MusicTransformer

TINY = ModelConfig(
    vocab_size=VOCAB_SIZE, d_model=16, n_layers=2, n_heads=2, d_ff=32, max_len=64, dropout=0.0
)


@pytest.fixture
def tiny_model() -> MusicTransformer:
    torch.manual_seed(0)
    return MusicTransformer(TINY).eval()


@pytest.fixture
def tiny_checkpoint(tmp_path: Path, tiny_model: MusicTransformer) -> Path:
    path = tmp_path / "tiny.pt"
    save_weights(path, tiny_model, {"kind": "relative", "step": 0})
    return path


@pytest.fixture(autouse=True)
def one_thread() -> object:
    """Tiny models on a shared machine: intra-op threads only add synchronisation waits."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
