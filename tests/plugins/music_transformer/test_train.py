"""Training: a tiny run writes a loadable checkpoint and resumes where it stopped."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import torch

from plugins.music_transformer.checkpoint import load_weights
from plugins.music_transformer.train import learning_rate, main

TINY_ARGS = [
    "--batch",
    "2",
    "--length",
    "32",
    "--d-model",
    "16",
    "--heads",
    "2",
    "--d-ff",
    "32",
    "--layers",
    "1",
    "--eval-every",
    "2",
    "--save-every",
    "2",
    "--warmup",
    "2",
]


def _data(folder: Path) -> Path:
    rows = []
    for i in range(40):  # ids hash into all three splits
        notes = np.array([(60 + (i + k) % 12, 80, k * 0.5, 0.5) for k in range(30)], np.float32)
        rows.append((f"bach/piece{i}", "bach", 100.0, notes))
    folder.mkdir(parents=True)
    (folder / "pieces.pkl").write_bytes(pickle.dumps(rows))
    return folder


def test_training_saves_a_checkpoint_and_resumes(tmp_path: Path) -> None:
    data = _data(tmp_path / "data")
    out = tmp_path / "model.pt"
    args = ["--data", str(data), "--out", str(out), *TINY_ARGS]
    assert main([*args, "--steps", "2"]) == 0
    model, info = load_weights(out)
    assert info["step"] == 2 and model.config.relative and info["valid_nll"] > 0
    assert main([*args, "--steps", "4"]) == 0
    curves = json.loads((data / "runs" / "relative" / "curves.json").read_text())
    assert [row[0] for row in curves["train"]] == [1, 2, 3, 4]  # resumed at 3, not from 1
    assert [row[0] for row in curves["valid"]] == [2, 4]
    _, info = load_weights(out)
    assert info["step"] == 4


def test_learning_rate_warms_up_then_decays_to_a_tenth() -> None:
    assert learning_rate(0, 100, 1.0, 10) == 0.1
    assert learning_rate(10, 100, 1.0, 10) == 1.0
    assert abs(learning_rate(100, 100, 1.0, 10) - 0.1) < 1e-9


def test_a_run_can_start_from_weights_follow_the_clock_and_keep_copies(tmp_path: Path) -> None:
    data = _data(tmp_path / "data")
    first = tmp_path / "first.pt"
    args = ["--data", str(data), *TINY_ARGS]
    assert main([*args, "--out", str(first), "--steps", "2"]) == 0
    start, _ = load_weights(first)
    second = tmp_path / "second.pt"
    run_dir = tmp_path / "second-run"
    run = [*args, "--out", str(second), "--run-dir", str(run_dir), "--init", str(first)]
    assert main([*run, "--steps", "0", "--minutes", "0.05", "--keep-every", "1", "--lr", "0"]) == 0
    model, info = load_weights(second)
    assert info["init"] == str(first) and info["schedule"] == "0.05 minutes"
    kept = load_weights(run_dir / "weights_step1.pt")[0]
    for name, weight in start.state_dict().items():  # lr 0: the weights are the start's
        assert torch.equal(weight, model.state_dict()[name])
        assert torch.equal(weight, kept.state_dict()[name])


def test_a_time_limited_schedule_follows_the_fraction() -> None:
    assert abs(learning_rate(50, 0, 1.0, 10, fraction=1.0) - 0.1) < 1e-9
    assert learning_rate(50, 0, 1.0, 10, fraction=0.0) == 1.0
