"""The data builder and trainer end to end on two sentences, with tiny networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from host import Note
from plugins.vocal_tts.build_data import build
from plugins.vocal_tts.checkpoint import load
from plugins.vocal_tts.dataset import read_shard
from plugins.vocal_tts.synthesis import Request, prepare, render
from plugins.vocal_tts.train import train


def test_build_then_train_gives_a_checkpoint_that_sings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    texts = ["Sing a little song tonight.", "The river runs along the valley."]
    assert build(texts, data / "train", sung_per_sentence=1, seed=0) == 4
    rows = read_shard(data / "train" / "shard000.npz")
    for symbols, durations, f0, audio, _, _ in rows:
        assert len(symbols) == len(durations) and durations.sum() == len(f0)
        assert len(audio) == len(f0) * 160 and np.abs(audio).max() > 0.05
    assert [row[5] for row in rows] == [False, True, False, True]

    checkpoint = tmp_path / "tiny.pt"
    scores = train(data, checkpoint, minutes=0.02, seed=0, tiny=True, save_every=1e9)
    assert scores["acoustic_l1"] > 0 and scores["vocoder_stft"] > 0
    bundle = load(checkpoint)
    assert len(bundle.vocabulary) > 10
    prepared = prepare(
        Request("la la", "sing", [Note(64, 90, 0, 1), Note(67, 90, 1, 1)], 120.0, 4.0, bars=1)
    )
    assert len(render(bundle, prepared)) == 32_000
