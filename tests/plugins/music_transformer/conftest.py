"""Shared fixtures: a tiny, untrained Music Transformer checkpoint (fast to sample, enough to
test the plumbing; quality is measured by the evaluation, not here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from plugins.music_transformer.checkpoint import save_weights
from plugins.music_transformer.events import (
    NOTE_OFF,
    NOTE_ON,
    TIME_SHIFT,
    VELOCITY,
    VOCAB_SIZE,
    style_token,
)
from plugins.music_transformer.model import ModelConfig, MusicTransformer

STEPS = 200  # enough for the tiny model to play the scale reliably (loss < 0.1)
TINY = ModelConfig(
    vocab_size=VOCAB_SIZE, d_model=16, n_layers=2, n_heads=2, d_ff=32, max_len=64, dropout=0.0
)


@pytest.fixture
def tiny_model() -> MusicTransformer:
    torch.manual_seed(0)
    return MusicTransformer(TINY).eval()


def _scale_sequences(count: int) -> torch.Tensor:
    """[style, velocity, on, 0.5 s, off, on, ...] up and down a C major scale (0.5 s: one beat
    at 120 BPM, like the test primers)."""
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62]
    rows = []
    for offset in range(count):
        row = [style_token("any"), VELOCITY + 20]
        for i in range(offset, offset + 20):
            pitch = scale[i % len(scale)]
            row += [NOTE_ON + pitch, TIME_SHIFT + 49, NOTE_OFF + pitch]
        rows.append(row[: TINY.max_len])
    return torch.tensor(rows)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained for a few seconds to play a scale in half seconds, so that it
    opens and closes notes like a real one (an untrained one almost never closes a note)."""
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model = MusicTransformer(TINY)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch = _scale_sequences(14)
    for _ in range(STEPS):
        logits = model(batch[:, :-1])
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, VOCAB_SIZE), batch[:, 1:].reshape(-1)
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    torch.set_num_threads(threads)
    path = tmp_path_factory.mktemp("music_transformer") / "tiny.pt"
    save_weights(path, model.eval(), {"kind": "relative", "step": STEPS, "loss": loss.item()})
    return path


@pytest.fixture(autouse=True)
def one_thread() -> object:
    """Tiny models on a shared machine: intra-op threads only add synchronisation waits."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
