"""Trains the transcription network on the clips of `build_data` (one torch thread), saving a
checkpoint atomically every few minutes so a usable one exists early.

    python -m plugins.transcribe.train [--data data/transcribe] [--minutes 60]

Every clip whose name hashes into the validation bucket (1 in 20) is kept out of training;
each save measures mir_eval's note-onset F1 on those, and the decoding thresholds that give
the best F1 go into the checkpoint. New clips in the data folder (the vocal-tts lines, built
while this runs) join training at the next save.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from host.training import Budget, SaveClock, add_budget_arguments, cosine
from plugins.transcribe.features import (
    FRAMES_PER_SECOND,
    HOP,
    SAMPLE_RATE,
    note_labels,
)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "data" / "transcribe"
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def is_validation(name: str) -> bool:
    return int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 20 == 0


def load_clips(folder: Path, known: set[str]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, float32 audio, notes) for every .npz in `folder` not in `known`."""
    clips = []
    for path in sorted(folder.glob("*.npz")):
        if path.stem in known:
            continue
        with np.load(path) as data:
            clips.append((path.stem, data["audio"].astype(np.float32) / 32768.0, data["notes"]))
        known.add(path.stem)
    return clips


def make_batch(
    clips: list, batch: int, crop_frames: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Random crops with random gain and noise: audio (B, samples), onset/frame/velocity
    labels (B, frames, 88)."""
    samples = (crop_frames - 1) * HOP
    audio = np.zeros((batch, samples), np.float32)
    labels = [np.zeros((batch, crop_frames, 88), np.float32) for _ in range(3)]
    for b in range(batch):
        _, wave, notes = clips[int(rng.integers(len(clips)))]
        start = int(rng.integers(0, max(1, len(wave) - samples)))
        piece = wave[start : start + samples]
        gain = 10 ** (rng.uniform(-18, 6) / 20)
        piece = piece * gain
        if rng.random() < 0.5:
            noise_db = rng.uniform(-80, -40)
            piece = piece + rng.normal(0, 10 ** (noise_db / 20), piece.shape).astype(np.float32)
        audio[b, : len(piece)] = piece
        onset, frame, velocity = note_labels(notes, crop_frames, start / SAMPLE_RATE)
        # a two-frame onset target: the rounding of an onset to the 16 ms grid is arbitrary
        onset = np.maximum(onset, np.vstack([np.zeros((1, 88)), onset[:-1]]))
        labels[0][b], labels[1][b], labels[2][b] = onset, frame, velocity
    return audio, labels[0], labels[1], labels[2]


def validate(net, frontend, clips: list) -> dict[str, float]:
    """Note-onset F1 (50 ms) per threshold pair over the validation clips; the best pair."""
    import torch

    from plugins.transcribe.decode import decode_notes
    from plugins.transcribe.evaluate import note_scores

    net.eval()
    outputs = []
    with torch.no_grad():
        for _, wave, notes in clips:
            o, f, v = net(frontend(torch.from_numpy(wave)[None]))
            outputs.append(
                (torch.sigmoid(o[0]).numpy(), torch.sigmoid(f[0]).numpy(), v[0].numpy(), notes)
            )
    net.train()
    best = {"onset_f1": -1.0}
    for onset_t in THRESHOLDS:
        for frame_t in THRESHOLDS:
            scores = []
            for o, f, v, notes in outputs:
                estimate = decode_notes(o, f, v, onset_t, frame_t)
                scores.append(note_scores(notes, estimate)["onset_f1"])
            mean = float(np.mean(scores))
            if mean > best["onset_f1"]:
                best = {"onset_f1": mean, "onset_threshold": onset_t, "frame_threshold": frame_t}
    return best


def train(args: argparse.Namespace) -> dict[str, float]:
    import torch
    import torch.nn.functional as F

    from plugins.transcribe.checkpoint import save
    from plugins.transcribe.features import Frontend
    from plugins.transcribe.network import NetConfig, TranscriptionNet

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    known: set[str] = set()
    all_clips = load_clips(args.data / "train", known)
    train_clips = [c for c in all_clips if not is_validation(c[0])]
    val_clips = [c for c in all_clips if is_validation(c[0])][: args.val_clips]
    if not all_clips:
        raise SystemExit(
            f"no training clips in {args.data / 'train'}; run plugins.transcribe.build_data"
        )
    if not val_clips or not train_clips:  # a tiny data set (tests): validate on seen clips
        train_clips, val_clips = all_clips, all_clips[:2]
    print(f"{len(train_clips)} train clips, {len(val_clips)} validation clips", flush=True)
    config = NetConfig(4, 8, dilations=(1, 2)) if args.tiny else NetConfig()
    net = TranscriptionNet(config)
    print(f"{sum(p.numel() for p in net.parameters()):,} parameters", flush=True)
    frontend = Frontend()
    optimiser = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    crop_frames = int(args.crop_seconds * FRAMES_PER_SECOND) + 1
    # The learning rate follows the time budget even when --max-steps ends the run sooner.
    budget, by_time, clock = (
        Budget(args.minutes, args.max_steps),
        Budget(args.minutes),
        SaveClock(args.save_every),
    )
    step = 0
    best: dict[str, float] = {"onset_f1": -1.0}
    losses: list[float] = []
    while True:
        done = budget.spent(step)
        if done or clock.due():
            result = validate(net, frontend, val_clips)
            minutes = budget.elapsed / 60
            recent = float(np.mean(losses[-200:])) if losses else float("nan")
            print(f"step {step} ({minutes:.1f} min): loss {recent:.4f} val {result}", flush=True)
            if result["onset_f1"] >= best["onset_f1"]:
                best = result
                save(
                    args.out,
                    net,
                    {
                        "step": step,
                        "minutes": minutes,
                        "validation": result,
                        "onset_threshold": result["onset_threshold"],
                        "frame_threshold": result["frame_threshold"],
                        "train_clips": len(train_clips),
                    },
                )
            fresh = [c for c in load_clips(args.data / "train", known) if not is_validation(c[0])]
            if fresh:
                train_clips += fresh
                print(f"+{len(fresh)} new train clips ({len(train_clips)})", flush=True)
            if done:
                break
        lr = args.lr * min(1.0, (step + 1) / 200) * cosine(by_time.fraction(step), floor=0.1)
        for group in optimiser.param_groups:
            group["lr"] = lr
        audio, onset, frame, velocity = (
            torch.from_numpy(a) for a in make_batch(train_clips, args.batch, crop_frames, rng)
        )
        onset_logit, frame_logit, velocity_pred = net(frontend(audio))
        t = min(onset_logit.shape[1], onset.shape[1])
        onset, frame, velocity = onset[:, :t], frame[:, :t], velocity[:, :t]
        onset_logit, frame_logit, velocity_pred = (
            onset_logit[:, :t],
            frame_logit[:, :t],
            velocity_pred[:, :t],
        )
        loss_onset = F.binary_cross_entropy_with_logits(onset_logit, onset)
        loss_frame = F.binary_cross_entropy_with_logits(frame_logit, frame)
        mask = (velocity > 0).float()
        loss_velocity = ((velocity_pred - velocity) ** 2 * mask).sum() / mask.sum().clamp(min=1)
        loss = loss_onset + loss_frame + 0.5 * loss_velocity
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 3.0)
        optimiser.step()
        losses.append(float(loss.detach()))
        step += 1
        if step % 50 == 0:
            rate = step / budget.elapsed
            print(
                f"step {step}: loss {np.mean(losses[-50:]):.4f} lr {lr:.2e} ({rate:.2f} steps/s)",
                flush=True,
            )
    return best


def main(argv: list[str] | None = None) -> int:
    from plugins.transcribe.checkpoint import DEFAULT_CHECKPOINT

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT)
    add_budget_arguments(
        parser,
        minutes=60.0,
        save_every=4.0,
        save_help="minutes between validations (the best checkpoint is kept); "
        "--save-minutes is its older name",
        save_aliases=("--save-minutes",),
        steps_aliases=("--steps",),
    )
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--crop-seconds", type=float, default=3.2)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--val-clips", type=int, default=60)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="a very small network (for tests)")
    args = parser.parse_args(argv)
    best = train(args)
    print(f"best validation {best}; checkpoint {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
