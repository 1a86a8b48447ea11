"""`dawhost train music-transformer`: train the relative model (or, with --absolute, the
same-size absolute-position baseline) on the corpus built by `corpus.py`.

Resumable: the full state (weights, optimiser, sampler RNG, step, curves) is saved to
`<run-dir>/state.pt` every --save-every minutes and at the end; running the same command again
continues from there. --steps sets the run's length (and its learning-rate schedule);
--minutes also stops it, saved, after that much time; with --steps 0 the run lasts --minutes and
the schedule follows the clock, so a time-limited run still ends its cosine decay. The small
weights-only checkpoint the plugin loads goes to --out. --init starts a new run (new optimiser)
from a weights-only checkpoint, e.g. to continue the shipped model on more data; --keep-every
also keeps a weights-only copy every N steps in the run directory, to compare them later.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from host.training import SAVE_EVERY_HELP, Budget, SaveClock, cosine, save_atomic, write_text_atomic
from plugins.music_transformer.checkpoint import (
    BASELINE_CHECKPOINT,
    DEFAULT_CHECKPOINT,
    load_weights,
    save_weights,
)
from plugins.music_transformer.corpus import load_pieces
from plugins.music_transformer.dataset import TrainingSampler, evaluation_windows
from plugins.music_transformer.events import PAD, VOCAB_SIZE
from plugins.music_transformer.model import ModelConfig, MusicTransformer, count_parameters


def sequence_nll(model: MusicTransformer, windows: torch.Tensor, batch: int = 16) -> float:
    """Mean negative log-likelihood in nats per event over the non-PAD targets of windows
    (the style token is context, never a target)."""
    total, count = 0.0, 0
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(windows), batch):
            chunk = windows[start : start + batch]
            logits = model(chunk[:, :-1])
            targets = chunk[:, 1:]
            losses = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]),
                targets.reshape(-1),
                ignore_index=PAD,
                reduction="sum",
            )
            total += float(losses)
            count += int((targets != PAD).sum())
    return total / max(1, count)


def learning_rate(
    step: int, steps: int, peak: float, warmup: int, fraction: float | None = None
) -> float:
    """Linear warm-up, then a cosine to a tenth of the peak: over the steps, or over
    `fraction` (0..1, how far through a time-limited run) when given."""
    if step < warmup:
        return peak * (step + 1) / warmup
    if fraction is None:
        fraction = (step - warmup) / max(1, steps - warmup)
    return peak * cosine(fraction, floor=0.1)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dawhost train music-transformer", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/music_transformer"))
    parser.add_argument("--run-dir", type=Path, default=None, help="default: <data>/runs/<kind>")
    parser.add_argument("--out", type=Path, default=None, help="weights-only checkpoint")
    parser.add_argument("--absolute", action="store_true", help="train the absolute baseline")
    parser.add_argument(
        "--steps", type=int, default=950, help="0: as many as --minutes allows, lr by the clock"
    )
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=256, help="tokens per training window")
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--d-ff", type=int, default=512)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--lr", type=float, default=1.5e-3)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=None, help="stop (and save) after this")
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--save-every", type=float, default=2.0, help=SAVE_EVERY_HELP)
    parser.add_argument(
        "--init", type=Path, default=None, help="start a new run from these weights (.pt)"
    )
    parser.add_argument(
        "--keep-every", type=int, default=0, help="keep weights every N steps in the run dir"
    )
    args = parser.parse_args(list(argv))
    if args.steps < 0 or (args.steps == 0 and not args.minutes):
        parser.error("--steps 0 needs --minutes (the run then lasts that long)")
    return args


def main(argv: Sequence[str] = ()) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    kind = "absolute" if args.absolute else "relative"
    run_dir = args.run_dir or args.data / "runs" / kind
    out = args.out or (BASELINE_CHECKPOINT if args.absolute else DEFAULT_CHECKPOINT)
    run_dir.mkdir(parents=True, exist_ok=True)
    random.seed(args.seed)
    torch.manual_seed(args.seed)

    pieces = load_pieces(args.data)
    train = [p for p in pieces if p.split == "train"]
    valid = [p for p in pieces if p.split == "valid"]
    sampler = TrainingSampler(train, args.length, seed=args.seed)
    valid_windows = evaluation_windows(valid, args.length, limit=48)
    config = ModelConfig(
        vocab_size=VOCAB_SIZE,
        d_model=args.d_model,
        n_layers=args.layers,
        n_heads=args.heads,
        d_ff=args.d_ff,
        max_len=args.length,
        dropout=args.dropout,
        relative=not args.absolute,
    )
    model = MusicTransformer(config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    curves: dict[str, list[list[float]]] = {"train": [], "valid": []}
    step, elapsed = 0, 0.0
    state_path = run_dir / "state.pt"
    if state_path.is_file():
        state = torch.load(state_path, map_location="cpu", weights_only=False)
        if state["config"] != config.as_dict():
            raise SystemExit(f"{state_path} has another config; use a new --run-dir")
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        sampler.restore(state["sampler"])
        torch.set_rng_state(state["torch_rng"])
        step, elapsed, curves = state["step"], state["elapsed"], state["curves"]
        print(f"resumed {kind} at step {step}", flush=True)
    elif args.init is not None:
        start, start_info = load_weights(args.init)
        if start.config != config:
            raise SystemExit(f"{args.init} has config {start.config.as_dict()}, not this run's")
        model.load_state_dict(start.state_dict())
        print(f"{kind} starts from {args.init} (step {start_info.get('step')})", flush=True)
    print(
        f"{kind}: {count_parameters(model):,} parameters, {len(train)} train / {len(valid)} "
        f"valid pieces, {len(valid_windows)} valid windows",
        flush=True,
    )

    def save() -> None:
        save_atomic(
            state_path,
            {
                "config": config.as_dict(),
                "model": model.state_dict(),
                "optimiser": optimiser.state_dict(),
                "sampler": sampler.state(),
                "torch_rng": torch.get_rng_state(),
                "step": step,
                "elapsed": elapsed,
                "curves": curves,
            },
        )
        info = {
            "kind": kind,
            "step": step,
            "train_seconds": round(elapsed),
            "batch": args.batch,
            "length": args.length,
            "seed": args.seed,
            "valid_nll": curves["valid"][-1][1] if curves["valid"] else None,
            "lr": args.lr,
            "schedule": f"{args.steps} steps" if args.steps else f"{args.minutes} minutes",
            "init": str(args.init) if args.init else None,
        }
        save_weights(out, model, info)
        write_text_atomic(run_dir / "curves.json", json.dumps(curves))

    budget = Budget(args.minutes, args.steps or None, elapsed)
    clock = SaveClock(args.save_every)
    bar = budget.bar(kind, step, mininterval=20, dynamic_ncols=False)
    running = None
    while not budget.spent(step):
        model.train()
        for group in optimiser.param_groups:
            fraction = None if args.steps else budget.fraction(step)
            group["lr"] = learning_rate(step, args.steps, args.lr, args.warmup, fraction)
        batch = sampler.batch(args.batch)
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(
            logits.reshape(-1, VOCAB_SIZE), batch[:, 1:].reshape(-1), ignore_index=PAD
        )
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        step += 1
        elapsed = budget.elapsed
        value = loss.item()
        running = value if running is None else 0.95 * running + 0.05 * value
        curves["train"].append([step, round(value, 4), round(elapsed, 1)])
        bar.update(1)
        bar.set_postfix(loss=f"{running:.3f}")
        if args.keep_every and step % args.keep_every == 0:
            save_weights(run_dir / f"weights_step{step}.pt", model, {"kind": kind, "step": step})
        if step % args.eval_every == 0 or step == args.steps:
            nll = sequence_nll(model, valid_windows)
            curves["valid"].append([step, round(nll, 4), round(elapsed, 1)])
            print(f"\nstep {step} valid nll {nll:.4f} ({elapsed / 60:.1f} min)", flush=True)
        if clock.due():
            save()
    bar.close()
    if step < args.steps:
        print(f"time limit reached at step {step}", flush=True)
    if not curves["valid"] or curves["valid"][-1][0] != step:
        nll = sequence_nll(model, valid_windows)
        curves["valid"].append([step, round(nll, 4), round(elapsed, 1)])
        print(f"step {step} valid nll {nll:.4f}", flush=True)
    save()
    print(f"saved {out} after {step} steps, {elapsed / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
