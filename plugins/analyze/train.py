"""Trains the beat network on the songs of `build_data` (one torch thread), saving a checkpoint
atomically every few minutes so a usable one exists early.

    python -m plugins.analyze.train [--data data/analyze] [--minutes 60]

Songs whose name hashes into the validation bucket (1 in 20) are kept out of training; each
save decodes them and measures tempo accuracy 1, beat F1 and downbeat F1 (mir_eval) and
time-signature accuracy, with each of a few decoding settings (how much the tempo and meter
heads count); the checkpoint with the best mean of the four is kept, with the settings that
gave it. Songs the data build
adds while this runs join training at the next save.

    python -m plugins.analyze.train --retune [--out CHECKPOINT]   # pick the settings again
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

from host.training import Budget, SaveClock, add_budget_arguments, cosine
from plugins.analyze.features import FPS, targets

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "data" / "analyze"
CROP_FRAMES = 1200  # 12 s


def is_validation(name: str) -> bool:
    return int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 20 == 0


class Song:
    """One training song: its log-mel (frames, N_MELS, float16) and labels."""

    def __init__(self, name: str, mel: np.ndarray, data: dict) -> None:
        from plugins.analyze.network import METER_NAMES

        self.name = name
        self.mel = mel
        self.beats = np.asarray(data["beats"], float)
        self.downbeats = np.asarray(data["downbeats"], float)
        self.tempo = float(data["tempo"])
        self.meter = str(data["meter"])
        self.meter_index = METER_NAMES.index(self.meter)


def load_songs(folder: Path, rng: np.random.Generator, known: set[str]) -> list[Song]:
    """Every .npz in `folder` not in `known`, its mel computed once at a random gain
    (-12..+6 dB)."""
    import torch

    from plugins.analyze.features import Frontend

    frontend = Frontend()
    songs = []
    started = time.monotonic()
    for path in sorted(folder.glob("*.npz")):
        if path.stem in known:
            continue
        known.add(path.stem)
        with np.load(path) as data:
            audio = data["audio"].astype(np.float32) / 32768.0
            audio *= 10 ** (rng.uniform(-12, 6) / 20)
            with torch.inference_mode():
                mel = frontend.mel(torch.from_numpy(audio)[None])[0].numpy().astype(np.float16)
            songs.append(Song(path.stem, mel, {k: data[k] for k in data.files}))
    print(f"loaded {len(songs)} songs in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return songs


def make_batch(songs: list[Song], batch: int, rng: np.random.Generator) -> tuple:
    """Random crops: mel (B, frames, N_MELS), beat and downbeat targets (B, frames), tempo
    targets (B, N_TEMPI, a Gaussian of 1 BPM around the true tempo), meter indices (B,)."""
    from plugins.analyze.network import N_TEMPI, TEMPO_MIN

    mels, beats, downs, tempi, meters = [], [], [], [], []
    classes = np.arange(N_TEMPI) + TEMPO_MIN
    for _ in range(batch):
        song = songs[int(rng.integers(len(songs)))]
        frames = min(CROP_FRAMES, len(song.mel))
        start = int(rng.integers(0, len(song.mel) - frames + 1))
        mel = np.zeros((CROP_FRAMES, song.mel.shape[1]), np.float32)
        mel[:frames] = song.mel[start : start + frames]
        mels.append(mel)
        beats.append(targets(song.beats, CROP_FRAMES, start / FPS))
        downs.append(targets(song.downbeats, CROP_FRAMES, start / FPS))
        tempo = np.exp(-0.5 * ((classes - song.tempo) / 1.0) ** 2)
        tempi.append(tempo / tempo.sum())
        meters.append(song.meter_index)
    return (
        np.stack(mels),
        np.stack(beats),
        np.stack(downs),
        np.stack(tempi).astype(np.float32),
        np.array(meters),
    )


def outputs_for(net, mel: np.ndarray) -> tuple[np.ndarray, ...]:
    """The network's four outputs for one whole song's mel, as numpy."""
    import torch

    from plugins.analyze.features import with_onsets

    with torch.inference_mode():
        features = with_onsets(torch.from_numpy(mel.astype(np.float32))[None])
        return tuple(o[0].numpy() for o in net(features))


# Decoding settings tried at each save (the rest keep their defaults): how much the meter and
# tempo heads count. The best on validation goes into the checkpoint.
METER_WEIGHTS = (0.0, 0.1, 0.3, 1.0)
TEMPO_PRIOR_POWERS = (1.0, 2.0)
SPLIT_COMPOUND = (False, True)


def decode_scores(outputs: list[tuple], songs: list[Song], settings) -> dict[str, float]:
    """Tempo accuracy, beat/downbeat F1 and meter accuracy of decoding `outputs` (one per
    song) with `settings`; `score` is the mean of accuracy 1, beat F1, downbeat F1 and meter
    accuracy."""
    from plugins.analyze.decode import analyze
    from plugins.analyze.metrics import f_measure, tempo_accuracy

    acc1, acc2, beat_f, down_f, meter_ok = [], [], [], [], []
    for song, output in zip(songs, outputs, strict=True):
        beat, downbeat, tempo, meter = output
        found = analyze(beat, downbeat, tempo, meter, FPS, settings)
        a1, a2 = tempo_accuracy(found.tempo, song.tempo)
        acc1.append(a1)
        acc2.append(a2)
        beat_f.append(f_measure(song.beats, found.beats))
        down_f.append(f_measure(song.downbeats, found.downbeats))
        meter_ok.append(found.meter == song.meter)
    report = {
        "accuracy1": float(np.mean(acc1)),
        "accuracy2": float(np.mean(acc2)),
        "beat_f1": float(np.mean(beat_f)),
        "downbeat_f1": float(np.mean(down_f)),
        "meter_accuracy": float(np.mean(meter_ok)),
    }
    report["score"] = (
        report["accuracy1"] + report["beat_f1"] + report["downbeat_f1"] + report["meter_accuracy"]
    ) / 4
    return report


def tune_decoding(net, songs: list[Song]) -> tuple:
    """The decoding settings that score best on `songs`, and their report."""
    from plugins.analyze.decode import DecodeSettings

    net.eval()
    outputs = [outputs_for(net, song.mel) for song in songs]
    net.train()
    best = None
    for meter_weight, power, split in itertools.product(
        METER_WEIGHTS, TEMPO_PRIOR_POWERS, SPLIT_COMPOUND
    ):
        settings = DecodeSettings(
            meter_weight=meter_weight, tempo_prior_power=power, split_compound=split
        )
        report = decode_scores(outputs, songs, settings)
        if best is None or report["score"] > best[1]["score"]:
            best = (settings, report)
    assert best is not None
    return best


def retune(checkpoint: Path, data: Path) -> dict:
    """Pick the decoding settings of an existing checkpoint again on its validation songs."""
    from dataclasses import asdict

    from plugins.analyze.checkpoint import load, save

    net, payload = load(checkpoint)
    folder = data / "train"
    others = {p.stem for p in folder.glob("*.npz") if not is_validation(p.stem)}
    songs = load_songs(folder, np.random.default_rng(0), others)
    if not songs:  # a data set too small to have validation songs: tune on all of it
        songs = load_songs(folder, np.random.default_rng(0), set())
    settings, report = tune_decoding(net, songs)
    payload.pop("config"), payload.pop("state_dict")
    save(checkpoint, net, {**payload, "decode": asdict(settings), "validation": report})
    return {"decode": asdict(settings), "validation": report, "songs": len(songs)}


def train(args: argparse.Namespace) -> dict:
    from dataclasses import asdict

    import torch

    from plugins.analyze.checkpoint import save
    from plugins.analyze.decode import DecodeSettings
    from plugins.analyze.features import with_onsets
    from plugins.analyze.network import BeatNet, NetConfig, parameter_count

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    known: set[str] = set()
    valid: list[Song] = []
    train_songs: list[Song] = []

    def add_songs() -> None:
        for song in load_songs(args.data / "train", rng, known):
            (valid if is_validation(song.name) else train_songs).append(song)

    add_songs()
    config = NetConfig(channels=args.channels, dilations=tuple(2**i for i in range(args.layers)))
    net = BeatNet(config)
    print(
        f"{parameter_count(net)} parameters; {len(train_songs)} train, {len(valid)} valid",
        flush=True,
    )
    optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    bce = torch.nn.BCEWithLogitsLoss()
    budget = Budget(args.minutes, args.max_steps)
    clock = SaveClock(args.save_every)
    best: dict = {"score": -1.0}
    step = 0
    bar = budget.bar("analyze", mininterval=30)
    running = 0.0

    def checkpoint(final: bool) -> None:
        nonlocal best
        settings, report = (
            tune_decoding(net, valid) if valid else (DecodeSettings(), {"score": 0.0})
        )
        print(f"step {step} loss {running:.4f} valid {report}", flush=True)
        if report["score"] >= best["score"] or final and best["score"] < 0:
            best = {**report, "step": step}
            save(
                args.out,
                net,
                {
                    "step": step,
                    "minutes": budget.elapsed / 60,
                    "validation": report,
                    "decode": asdict(settings),
                },
            )

    while not budget.spent(step):
        for group in optimizer.param_groups:
            group["lr"] = args.lr * cosine(budget.fraction(step), 0.05)
        mel, beat, down, tempo, meter = (
            torch.from_numpy(a) for a in make_batch(train_songs or valid, args.batch, rng)
        )
        beat_logits, down_logits, tempo_logits, meter_logits = net(with_onsets(mel))
        loss = (
            bce(beat_logits, beat)
            + bce(down_logits, down)
            + 0.1 * -(tempo * torch.log_softmax(tempo_logits, 1)).sum(1).mean()
            + 0.1 * torch.nn.functional.cross_entropy(meter_logits, meter)
        )
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        step += 1
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        budget.advance(bar, step)
        if clock.due():
            checkpoint(False)
            add_songs()
    bar.close()
    checkpoint(True)
    print(f"best {best}", flush=True)
    return best


def main(argv: list[str] | None = None) -> int:
    from plugins.analyze.checkpoint import DEFAULT_CHECKPOINT

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT)
    add_budget_arguments(parser, minutes=60.0, save_every=5.0)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--layers", type=int, default=10, help="dilations 1, 2, 4, ... 2**(N-1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--retune",
        action="store_true",
        help="only pick the decoding settings of the --out checkpoint again on validation",
    )
    args = parser.parse_args(argv)
    if args.retune:
        print(json.dumps(retune(args.out, args.data), indent=2))
        return 0
    if not args.minutes and not args.max_steps:
        parser.error("give --minutes or --max-steps")
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
