"""Train the WaveNet vocoder on the vocal-tts and melnet training audio (progress bar).

Each step takes random crops of voice and music clips, conditions them on one front-end's mels
(alternating vocal-tts's and melnet's) and drops the condition for a fraction of the rows, so
the same network learns p(x | mel) and p(x). The learning rate follows a cosine over the time
budget; every --save-every minutes (2.5) the model is validated and the checkpoint with the
best validation NLL (conditional) is kept.
Usage: dawhost train wavenet [--minutes 55] [--save-every 2.5] [--threads 1] [--out FILE]
(builds the audio with plugins.wavenet.build_data first if data/wavenet has none)
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from host.training import Budget, SaveClock, add_budget_arguments, cosine
from plugins.wavenet.checkpoint import DEFAULT_CHECKPOINT, save
from plugins.wavenet.dataset import Clip, random_batch, read_clips
from plugins.wavenet.mulaw import decode, encode
from plugins.wavenet.network import FRONT_ENDS, WaveNet, WaveNetConfig

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "wavenet"


def batch_nll(
    model: WaveNet,
    batch: dict[str, torch.Tensor],
    front_end: str,
    drop: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean NLL in nats per sample; rows where `drop` is True are scored unconditionally."""
    target = encode(batch["audio"])
    previous = torch.nn.functional.pad(decode(target)[:, :-1], (1, 0))
    condition = model.frame_condition(batch["mel"], front_end)
    if drop is not None and bool(drop.any()):
        null = model.frame_condition(None, None, condition.shape[0]).expand_as(condition)
        condition = torch.where(drop[:, None, None], null, condition)
    logits = model(previous, condition, batch["positions"], FRONT_ENDS[front_end].hop)
    return torch.nn.functional.cross_entropy(logits, target)


def evaluate_nll(
    model: WaveNet, clips: list[Clip], crops: int, length: int, seed: int = 0
) -> dict[str, float]:
    """NLL (nats/sample) on fixed crops: with each front-end's mel, and without a condition."""
    rng_state = np.random.default_rng(seed)
    results: dict[str, float] = {}
    model.eval()
    with torch.no_grad():
        for front_end in FRONT_ENDS:
            batch = random_batch(clips, crops, length, np.random.default_rng(seed), front_end)
            results[f"conditional_{front_end}"] = float(batch_nll(model, batch, front_end))
        batch = random_batch(clips, crops, length, rng_state, "music")
        drop = torch.ones(crops, dtype=torch.bool)
        results["unconditional"] = float(batch_nll(model, batch, "music", drop))
    model.train()
    return results


def train(
    model: WaveNet,
    clips: list[Clip],
    steps: int | None = None,
    minutes: float | None = None,
    batch: int = 4,
    length: int = 4000,
    lr: float = 2e-3,
    drop_condition: float = 0.15,
    seed: int = 0,
    validation: list[Clip] | None = None,
    out: Path | None = None,
    log: Path | None = None,
    save_every: float = 2.5,
    quiet: bool = False,
) -> list[float]:
    """Train in place for `steps` or `minutes` (whichever ends first), validating every
    `save_every` minutes; returns the loss of each step."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    budget, clock = Budget(minutes, steps), SaveClock(save_every)
    losses: list[float] = []
    best = math.inf
    bar = budget.bar("wavenet", disable=quiet)
    step = validated = 0
    names = list(FRONT_ENDS)
    while not budget.spent(step):
        for group in optimiser.param_groups:
            group["lr"] = lr * cosine(budget.fraction(step), floor=0.05)
        front_end = names[step % len(names)]
        data = random_batch(clips, batch, length, rng, front_end)
        drop = torch.from_numpy(rng.random(batch) < drop_condition)
        loss = batch_nll(model, data, front_end, drop)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        losses.append(loss.item())
        step += 1
        budget.advance(bar, step)
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
        if validation is not None and out is not None and clock.due():
            figures = evaluate_nll(model, validation, crops=8, length=length)
            score = figures["conditional_vocal"] + figures["conditional_music"]
            record = {
                "step": step,
                "seconds": round(budget.elapsed, 1),
                "train_loss": round(float(np.mean(losses[validated:])), 4),
                **figures,
            }
            validated = len(losses)
            if score < best:
                best = score
                save(model, out, {"step": step, **figures})
                record["saved"] = True
            if log is not None:
                with log.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
    bar.close()
    return losses


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    add_budget_arguments(
        parser,
        minutes=55.0,
        save_every=2.5,
        save_help="minutes between validations (the best checkpoint is kept)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (shared CPU)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--length", type=int, default=4000, help="samples per crop")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--log", type=Path, default=None, help="JSON lines of validation")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if not all((args.data / f"{k}_train.npz").is_file() for k in ("music", "voice")):
        from plugins.wavenet.build_data import main as build_data

        print(f"building the training audio in {args.data} (a few minutes)", flush=True)
        build_data(["--out", str(args.data)])
    clips = read_clips(args.data / "music_train.npz") + read_clips(args.data / "voice_train.npz")
    validation = read_clips(args.data / "music_test.npz", 6) + read_clips(
        args.data / "voice_test.npz", 6
    )
    model = WaveNet(WaveNetConfig())
    print(
        f"{model.parameter_count()} parameters, receptive field "
        f"{model.config.receptive_field} samples, {len(clips)} clips, "
        f"{sum(len(c.audio) for c in clips) / 16000:.0f} s",
        flush=True,
    )
    train(
        model,
        clips,
        steps=args.max_steps or None,
        minutes=args.minutes,
        batch=args.batch,
        length=args.length,
        lr=args.lr,
        validation=validation,
        out=args.out,
        log=args.log,
        save_every=args.save_every,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
