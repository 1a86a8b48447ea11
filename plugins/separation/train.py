"""Trains MMDenseLSTM (or MMDenseNet) masks on the rendered songs, for a wall-clock budget.

    dawhost train separation [--variant mmdenselstm-wide|mmdenselstm|mmdensenet]
                             [--minutes 95] [--threads 1] [--out PATH]
    dawhost train separation --init CHECKPOINT --lr 1e-3 --minutes 60   # go on training one

The shipped checkpoint (quiet 2-core machine), in six stages (the refiner ones were stopped
early, once validation levelled off; the last one kept its best validation, at 20 minutes; see
the plugin README):
    dawhost train separation --threads 2 --out stage1.pt        # 95 min
    dawhost train separation --init stage1.pt --sdr-weight 0.05 --frames 128 --batch 4 \
        --lr 1e-3 --minutes 100 --threads 2 --out stage2.pt
    dawhost train separation --init stage2.pt --remix 0.2 --sdr-weight 0.05 --frames 128 \
        --batch 4 --lr 5e-4 --minutes 95 --threads 2 --out stage3.pt   # mostly whole songs
    dawhost train separation --init stage3.pt --stereo --remix 0.2 --sdr-weight 0.05 \
        --frames 256 --batch 4 --lr 3e-3 --minutes 92 --threads 2 --out stage4.pt  # refiner
    dawhost train separation --init stage4.pt --stereo --network-lr 3e-4 --lr 1e-3 \
        --remix 0.2 --sdr-weight 0.05 --frames 192 --batch 4 --minutes 88 --threads 2 \
        --out stage5.pt  # both
    dawhost train separation --init stage5.pt --stereo --network-lr 1e-4 --lr 3e-4 \
        --remix 0.2 --sdr-weight 0.05 --sdr-segment 1 --frames 256 --batch 4 --minutes 58 \
        --save-every 5 --val-seconds 12 --select framewise_mean --threads 2  # per second

With --stereo the stereo refiner (stereo.py) learns, with the same loss taken per channel; the
network stays fixed, or with --network-lr is fine-tuned together with it.

Loss: L1 between masked mixture magnitudes and stem magnitudes at the internal rate, plus
with --sdr-weight the negative SDR of the stems resynthesised with the mixture's phase. The
learning rate follows a cosine over the time budget (not a step count: the machine is shared
and steps/s vary). Validation SDR on the val songs, every --save-every minutes (6) and at the
end, picks the checkpoint that is kept.

The evaluation takes the median SDR over 1 s frames, so a quiet passage weighs as much as a
loud one. `--sdr-segment 1` takes the SDR loss per second the same way, and (with --stereo)
`--select framewise_mean --val-seconds 12` keeps the checkpoint whose validation median over
1 s frames is best, instead of its plain SDR over the first 6 s.

`--stem-dropout P` silences one to three stems in a share P of the examples (dataset.py): the
built songs always have every stem, so without it the network never hears a sparse mix and
sends part of a lone piano to the bass (leakage.py).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from host.training import Budget, SaveClock, add_budget_arguments, cosine
from plugins.separation.build_data import DEFAULT_OUT
from plugins.separation.checkpoint import load_with_refiner, save_checkpoint
from plugins.separation.dataset import ExampleSampler, load_songs, mid_channel
from plugins.separation.metrics import negative_sdr, sdr
from plugins.separation.network import MMDenseNet, NetworkConfig, channels_last
from plugins.separation.spectral import internal_istft, internal_spectrum
from plugins.separation.stems import INTERNAL_RATE, STEMS
from plugins.separation.stereo import SPATIAL_CUES, RefinerConfig, StereoRefiner
from plugins.separation.train_stereo import stereo_loss, validate_stereo

VARIANTS = {
    # Sized for about a fifth of a CPU core for an hour (what a shared 2-core machine gives):
    # 0.19 GFLOP per second of audio forward for the LSTM variant.
    "mmdenselstm": NetworkConfig(
        growth=4, layers=2, stem_channels=6, lstm_hidden=32, band_channels=8
    ),
    "mmdensenet": NetworkConfig(
        growth=4, layers=2, stem_channels=6, lstm_hidden=0, band_channels=8
    ),
    # 4.6x the parameters for 1.7x the step time (0.48 s for a batch on 2 idle threads): sized
    # for a quiet 2-core machine and 90 minutes, where the small one was still improving.
    "mmdenselstm-wide": NetworkConfig(
        growth=8, layers=2, stem_channels=12, lstm_hidden=96, band_channels=12
    ),
    "tiny": NetworkConfig(growth=2, layers=1, stem_channels=2, lstm_hidden=4, band_channels=2),
}


def separate_internal(network: MMDenseNet, mono: torch.Tensor) -> torch.Tensor:
    """(samples,) at the internal rate -> (stems, samples): the network's masks on the
    mixture's own STFT (used for validation; the plugin goes through separate.py)."""
    spec = internal_spectrum(mono)[:-1]  # drop the Nyquist bin
    masks = network.masks_any_length(spec.abs()[None])[0]
    return internal_istft(masks * spec[None], mono.shape[-1])


@torch.no_grad()
def validate(
    network: MMDenseNet, songs: dict[str, np.ndarray], seconds: float = 6.0, rate: int = 11_025
) -> dict[str, float]:
    network.eval()
    scores: dict[str, list[float]] = {s: [] for s in STEMS}
    for song in songs.values():
        n = min(song.shape[-1], int(seconds * rate))
        stems = mid_channel(song[..., :n])
        estimates = separate_internal(network, torch.from_numpy(stems.sum(0))).numpy()
        for i, stem in enumerate(STEMS):
            value = sdr(stems[i], estimates[i])
            if value is not None:
                scores[stem].append(value)
    network.train()
    result = {s: float(np.mean(v)) for s, v in scores.items() if v}
    result["mean"] = float(np.mean(list(result.values())))
    return result


def loss_fn(
    network: MMDenseNet,
    mix: torch.Tensor,
    targets: torch.Tensor,
    sdr_weight: float = 0.0,
    sdr_segment: int = 0,
) -> torch.Tensor:
    """L1 between masked mixture and stem magnitudes, plus (with `sdr_weight`) the negative
    SDR of the stems resynthesised with the mixture's phase: what the evaluation measures
    (per `sdr_segment` samples when given, see metrics.negative_sdr)."""
    spec = internal_spectrum(mix)[:, :-1]
    mix_mag = spec.abs()
    target_mag = internal_spectrum(targets)[:, :, :-1].abs()
    masks = network(mix_mag)
    loss = (masks * mix_mag[:, None] - target_mag).abs().mean()
    if sdr_weight:
        estimates = internal_istft(masks * spec[:, None], mix.shape[-1])
        loss = loss + sdr_weight * negative_sdr(targets, estimates, mix, sdr_segment)
    return loss


def main(argv: Sequence[str] = ()) -> int:

    parser = argparse.ArgumentParser(prog="dawhost train separation", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="mmdenselstm-wide")
    add_budget_arguments(
        parser,
        minutes=95.0,
        save_every=6.0,
        save_help="minutes between validations (the best checkpoint is kept); "
        "--val-minutes is its older name",
        save_aliases=("--val-minutes",),
    )
    parser.add_argument("--batch", type=int, default=6)
    parser.add_argument("--frames", type=int, default=64, help="STFT frames per example")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument(
        "--sdr-weight",
        type=float,
        default=0.0,
        help="add this times the negative SDR (dB) of the resynthesised stems to the L1 loss",
    )
    parser.add_argument(
        "--sdr-segment",
        type=float,
        default=0.0,
        help="take that SDR per segment of this many seconds and average (1: as the "
        "evaluation's 1 s frames); 0: one SDR over the whole excerpt",
    )
    parser.add_argument(
        "--remix",
        type=float,
        default=0.5,
        help="chance that each stem of an example comes from another song (0: whole songs, "
        "as the test set is; 1: every stem from a different one)",
    )
    parser.add_argument(
        "--stem-dropout",
        type=float,
        default=0.0,
        help="chance that an example has one to three of its stems silent (targets zero, the "
        "mixture the sum of the rest), so the network hears sparse mixes too; 0: every stem",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--val-seconds", type=float, default=6.0, help="validate on this much of each val song"
    )
    parser.add_argument(
        "--select",
        choices=("mean", "framewise_mean"),
        default="mean",
        help="the validation figure that picks the checkpoint kept: plain SDR over the excerpt, "
        "or (with --stereo) its median over 1 s frames, as the evaluation counts",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--keep-last",
        action="store_true",
        help="also save the latest checkpoint at every validation, as OUT-last.pt (the val "
        "songs are full bands: they need not favour what an augmentation teaches)",
    )
    parser.add_argument(
        "--init",
        type=Path,
        default=None,
        help="start from this checkpoint's network and weights (--variant is ignored)",
    )
    parser.add_argument(
        "--stereo",
        action="store_true",
        help="with --init: train a stereo refiner on top of that network (per-channel masks; "
        "needs the data built in stereo); the network stays fixed unless --network-lr",
    )
    parser.add_argument(
        "--network-lr",
        type=float,
        default=0.0,
        help="with --stereo: fine-tune the network too, at this learning rate (0: fixed)",
    )
    parser.add_argument(
        "--spatial",
        action="store_true",
        help="with --stereo and --network-lr: the network hears the stereo image too (pan and "
        "width per bin, stereo.spatial_cues), through new inputs that start at zero",
    )
    parser.add_argument(
        "--bottleneck-blocks",
        type=int,
        default=0,
        help="residual blocks at each band net's lowest resolution; with --init they are added "
        "to that network, starting as the identity, and learn at --lr (the rest of the network "
        "at --network-lr with --stereo)",
    )
    parser.add_argument(
        "--bottleneck-width", type=int, default=64, help="inner channels of those blocks"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="checkpoint path (default: DATA/runs/VARIANT.pt)"
    )
    args = parser.parse_args(list(argv))
    if args.stereo and args.init is None:
        parser.error("--stereo needs --init: the trained network whose masks it refines")
    if args.spatial and not (args.stereo and args.network_lr):
        parser.error("--spatial needs --stereo and --network-lr: the network must learn them")
    if args.bottleneck_blocks and args.stereo and not args.network_lr:
        parser.error("--bottleneck-blocks with --stereo needs --network-lr: the network learns")
    if args.select == "framewise_mean" and not args.stereo:
        parser.error("--select framewise_mean needs --stereo (the stereo validation reports it)")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out = args.out or args.data / "runs" / f"{args.variant}.pt"
    log_path = out.with_suffix(".jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)

    val_songs = load_songs(args.data / "val")
    refiner: StereoRefiner | None = None
    if args.init is not None:
        network, saved_refiner, record = load_with_refiner(args.init)
        init_names = {name for name, _ in network.named_parameters()}
        args.variant = str(record.get("variant", args.variant))
        if args.stereo:
            refiner = saved_refiner or StereoRefiner(RefinerConfig())
            if args.network_lr:
                network.train()
            else:
                network.requires_grad_(False)  # stays in eval mode: batch norms fixed too
            if args.spatial and not network.config.spatial_inputs:
                network = network.with_spatial_inputs(SPATIAL_CUES)
        else:
            network.train()
        if args.bottleneck_blocks:
            network = network.with_bottleneck_blocks(args.bottleneck_blocks, args.bottleneck_width)
    else:
        config = VARIANTS[args.variant]
        if args.bottleneck_blocks:
            config = replace(
                config,
                bottleneck_blocks=args.bottleneck_blocks,
                bottleneck_width=args.bottleneck_width,
            )
        network = MMDenseNet(config)
    # Channels-last weights: oneDNN's convolutions run faster that way (as in separate.py).
    network = channels_last(network)
    trained: torch.nn.Module = network if refiner is None else refiner
    groups = [{"params": list(trained.parameters()), "base_lr": args.lr}]
    if refiner is not None and args.network_lr:
        # blocks just added learn at --lr, the trained weights at --network-lr
        added = (
            [p for name, p in network.named_parameters() if name not in init_names]
            if args.init is not None
            else []
        )
        groups[0]["params"] += added
        kept = [p for p in network.parameters() if all(p is not q for q in added)]
        groups.append({"params": kept, "base_lr": args.network_lr})
    optimizer = torch.optim.Adam(groups, lr=args.lr)
    parameters = [p for group in groups for p in group["params"]]
    print(
        f"{args.variant}{' + stereo refiner' if refiner else ''}: "
        f"{sum(p.numel() for p in parameters)} parameters trained",
        file=sys.stderr,
    )

    def validate_now() -> dict[str, float]:
        if not val_songs:
            # no val songs: the latest checkpoint is kept
            return {"mean": float(step), "framewise_mean": float(step)}
        if refiner is None:
            return validate(network, val_songs, args.val_seconds)
        return validate_stereo(network, refiner, val_songs, args.val_seconds)

    sdr_segment = round(args.sdr_segment * INTERNAL_RATE)

    def loss_of(mix: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if refiner is None:
            return loss_fn(network, mix, targets, args.sdr_weight, sdr_segment)
        return stereo_loss(network, refiner, mix, targets, args.sdr_weight, sdr_segment)

    def songs_on_disk() -> int:
        return sum(1 for _ in (args.data / "train").glob("*.npy"))

    budget, clock = Budget(args.minutes, args.max_steps), SaveClock(args.save_every)
    sampler: ExampleSampler | None = None
    best = -math.inf
    step = 0
    losses: list[float] = []
    bar = budget.bar(f"training {args.variant}", file=sys.stderr)
    with log_path.open("a") as log:
        while True:
            elapsed = budget.elapsed
            done = budget.spent(step)
            # pick up songs the builder added since (every 300 steps; every 50 while it builds)
            grown = step % 50 == 0 and sampler is not None and songs_on_disk() > len(sampler.songs)
            if sampler is None or step % 300 == 0 or grown:
                sampler = ExampleSampler(
                    load_songs(args.data / "train"),
                    args.frames,
                    seed=args.seed + step,
                    remix=args.remix,
                    stereo=args.stereo,
                    stem_dropout=args.stem_dropout,
                )
            if done or clock.due():
                scores = validate_now()
                record = {
                    "step": step,
                    "minutes": round(elapsed / 60, 2),
                    "train_loss": float(np.mean(losses[-100:])) if losses else None,
                    "val_sdr_db": scores,
                    "variant": args.variant,
                    "init": str(args.init) if args.init else None,
                    "sdr_weight": args.sdr_weight,
                    "sdr_segment_seconds": args.sdr_segment,
                    "select": args.select,
                    "frames": args.frames,
                    "remix": args.remix,
                    "stem_dropout": args.stem_dropout,
                    "stereo": args.stereo,
                    "network_lr": args.network_lr if args.stereo else None,
                    "spatial_inputs": network.config.spatial_inputs,
                    "bottleneck_blocks": network.config.bottleneck_blocks,
                    "train_songs": len(sampler.songs),
                }
                log.write(json.dumps(record) + "\n")
                log.flush()
                if scores[args.select] > best:
                    best = scores[args.select]
                    save_checkpoint(out, network, record, refiner)
                if args.keep_last:  # the latest too, whatever validation says
                    save_checkpoint(out.with_name(f"{out.stem}-last.pt"), network, record, refiner)
                bar.write(f"step {step}: val SDR {scores}")
            if done:
                break
            decay = cosine(budget.fraction(step))
            for group in optimizer.param_groups:
                group["lr"] = group["base_lr"] * decay
            mix, targets = sampler.batch(args.batch)
            loss = loss_of(mix, targets)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 5.0)
            optimizer.step()
            losses.append(loss.item())
            step += 1
            bar.set_postfix(step=step, loss=f"{np.mean(losses[-50:]):.4f}", refresh=False)
            budget.advance(bar, step)
    bar.close()
    print(f"best val SDR {best:.2f} dB; checkpoint {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
