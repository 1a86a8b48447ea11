"""The diagnosis scores checkpoints and the ideal mask on the same training and val excerpts
and splits the loss into a fitting gap and a generalisation gap."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from plugins.separation.diagnose import main, spread
from plugins.separation.stems import INTERNAL_RATE, STEMS


def _song(path: Path, seed: int, seconds: float = 2.5) -> None:
    """(stems, 2, samples) float16, as build_styles stores train and val songs."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * INTERNAL_RATE)) / INTERNAL_RATE
    clicks = np.zeros_like(t)
    clicks[:: INTERNAL_RATE // 4] = 0.8
    mono = [
        0.3 * np.sin(2 * np.pi * (660 + 40 * seed) * t),
        clicks + 0.01 * rng.standard_normal(t.size),
        0.4 * np.sin(2 * np.pi * 55 * t),
        0.3 * np.sin(2 * np.pi * 330 * t),
    ]
    pans = rng.uniform(0.3, 1.0, (len(STEMS), 2))
    song = np.stack([m[None] * p[:, None] for m, p in zip(mono, pans, strict=True)])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, song.astype(np.float16))


def test_report_splits_the_loss_into_fit_and_generalisation(
    tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(3):
        _song(tmp_path / "train" / f"train{i:03d}.npy", i)
    _song(tmp_path / "val" / "val000.npy", 9)
    argv = ["--data", str(tmp_path), "--checkpoint", str(tiny_checkpoint), "--train-songs", "2"]
    assert main([*argv, "--seconds", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["songs"] == {"train": ["train000", "train002"], "val": 1}
    oracle = report["ideal_mask"]
    model = report["checkpoints"][str(tiny_checkpoint)]
    assert oracle["train"]["mean"] > model["train"]["mean"] + 3  # an untrained network
    assert model["fit_gap_db"]["mean"] == pytest.approx(
        oracle["train"]["mean"] - model["train"]["mean"], abs=0.02
    )
    expected = (model["train"]["mean"] - model["val"]["mean"]) - (
        oracle["train"]["mean"] - oracle["val"]["mean"]
    )
    assert model["generalisation_gap_db"]["mean"] == pytest.approx(expected, abs=0.02)


def test_missing_data_is_refused_with_the_builder_named(
    tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(tmp_path), "--checkpoint", str(tiny_checkpoint)]) == 2
    assert "build_styles" in capsys.readouterr().err


def test_training_songs_are_picked_across_the_whole_list() -> None:
    names = [f"s{i}" for i in range(10)]
    assert spread(names, 3) == ["s0", "s4", "s9"]
    assert spread(names, 20) == names
