"""A few training steps lower the loss, with and without the condition."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from plugins.wavenet.dataset import Clip, front_end_mel, random_batch
from plugins.wavenet.network import WaveNet
from plugins.wavenet.train import batch_nll, train


def _tone_clip() -> Clip:
    t = np.arange(16_000) / 16_000
    audio = (0.4 * np.sin(2 * np.pi * 220 * t) * np.linspace(0.2, 1, t.size)).astype(np.float32)
    return Clip("tone", audio, {name: front_end_mel(name, audio) for name in ("vocal", "music")})


def test_a_few_steps_lower_the_loss(tiny_model: WaveNet) -> None:
    clips = [_tone_clip()]
    fixed = random_batch(clips, 4, 1000, np.random.default_rng(0), "vocal")
    with torch.no_grad():
        before = float(batch_nll(tiny_model, fixed, "vocal"))
        before_null = float(batch_nll(tiny_model, fixed, "vocal", torch.ones(4, dtype=torch.bool)))
    tiny_model.train()
    losses = train(tiny_model, clips, steps=30, batch=4, length=1000, lr=1e-2, quiet=True)
    tiny_model.eval()
    with torch.no_grad():
        after = float(batch_nll(tiny_model, fixed, "vocal"))
        after_null = float(batch_nll(tiny_model, fixed, "vocal", torch.ones(4, dtype=torch.bool)))
    assert len(losses) == 30
    assert after < before - 0.3, (before, after)
    assert after_null < before_null - 0.3, (before_null, after_null)


def test_crops_carry_the_frames_around_them() -> None:
    clip = _tone_clip()
    batch = random_batch([clip], 3, 2000, np.random.default_rng(1), "music")
    assert batch["audio"].shape == (3, 2000)
    assert batch["mel"].shape == (3, 2000 // 256 + 3, 64)
    # positions index the first frame of the crop: all within the frames handed over
    assert int(batch["positions"].min()) >= 0
    assert int(batch["positions"].max()) < batch["mel"].shape[1] * 256


def test_validation_keeps_the_best_checkpoint_and_logs_it(
    tiny_model: WaveNet, tmp_path: Path
) -> None:
    from plugins.wavenet.checkpoint import load

    out, log = tmp_path / "wavenet.pt", tmp_path / "log.jsonl"
    train(
        tiny_model,
        [_tone_clip()],
        steps=3,
        batch=2,
        length=1000,
        validation=[_tone_clip()],
        out=out,
        log=log,
        save_every=0.0,
        quiet=True,
    )
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3] and records[0]["saved"]
    model, info = load(out)
    assert info["step"] in (1, 2, 3) and model.config == tiny_model.config
