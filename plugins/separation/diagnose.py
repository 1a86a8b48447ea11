"""Where does a checkpoint lose against the ideal mask: fitting or generalising?

    python -m plugins.separation.diagnose --checkpoint PATH [--checkpoint PATH ...] \
        [--data data/separation-styles] [--train-songs 24] [--seconds 12] [--threads 1]

On the same excerpts (the first `--seconds` of `--train-songs` training songs, spread evenly
over the sorted list, and of every val song), at the network's own rate and per channel, it
scores each checkpoint and the ideal ratio mask computed there (the ceiling of this design) with
the validation's metric (mean over songs and channels of the median SDR over 1 s frames).
Prints one JSON object; per checkpoint:

- `fit_gap_db`: ideal mask minus model on songs it was trained on. Large means the network
  cannot express or has not learnt what it has seen (capacity or training time);
- `generalisation_gap_db`: model on training songs minus model on val songs, minus the same
  difference for the ideal mask (so songs that are simply harder do not count). Large means
  more (or more varied) data would help more than a bigger network.

Both per stem and as the mean over stems. The input band (11.025 kHz against the full rate)
is measured by `evaluate.py` (oracle_irm vs oracle_internal_stereo_mask) on the test songs.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from plugins.separation.build_styles import DEFAULT_STYLES_OUT
from plugins.separation.checkpoint import load_with_refiner
from plugins.separation.dataset import is_stereo, load_songs
from plugins.separation.metrics import median_frame_sdr
from plugins.separation.network import MMDenseNet, channels_last
from plugins.separation.spectral import internal_istft, internal_spectrum
from plugins.separation.stems import INTERNAL_RATE, STEMS
from plugins.separation.stereo import StereoRefiner, stereo_masks


def excerpts(songs: dict[str, np.ndarray], seconds: float) -> list[np.ndarray]:
    """(stems, channels, samples) float32: the first `seconds` of each stereo song."""
    n = int(seconds * INTERNAL_RATE)
    out = []
    for name, song in songs.items():
        if not is_stereo(song):
            raise ValueError(f"{name} is stored in mono; rebuild the data in stereo")
        out.append(song[..., :n].astype(np.float32))
    return out


def ideal_mask_estimates(stems: np.ndarray) -> np.ndarray:
    """The ideal ratio mask per channel at the internal rate, applied to the mixture."""
    spec = internal_spectrum(torch.from_numpy(stems))[..., :-1, :]  # (stems, ch, bins, frames)
    masks = spec.abs() / (spec.abs().sum(dim=0, keepdim=True) + 1e-12)
    return internal_istft(masks * spec.sum(dim=0, keepdim=True), stems.shape[-1]).numpy()


@torch.no_grad()
def model_estimates(
    network: MMDenseNet, refiner: StereoRefiner | None, stems: np.ndarray
) -> np.ndarray:
    mix = torch.from_numpy(stems.sum(0))[None]  # (1, channels, samples)
    masks, spec = stereo_masks(network, refiner, mix)
    return internal_istft(masks[0].transpose(0, 1) * spec[0][None], stems.shape[-1]).numpy()


def framewise_scores(
    songs: list[np.ndarray], estimate: Callable[[np.ndarray], np.ndarray]
) -> dict[str, float]:
    """Mean over songs and channels of the median SDR over 1 s frames, per stem and mean."""
    per_stem: dict[str, list[float]] = {s: [] for s in STEMS}
    for stems in songs:
        estimates = estimate(stems)
        for i, stem in enumerate(STEMS):
            for channel in range(stems.shape[1]):
                value = median_frame_sdr(stems[i, channel], estimates[i, channel], INTERNAL_RATE)
                if value is not None:
                    per_stem[stem].append(value)
    result = {s: round(float(np.mean(v)), 2) for s, v in per_stem.items() if v}
    result["mean"] = round(float(np.mean(list(result.values()))), 2)
    return result


def gaps(
    model: dict[str, dict[str, float]], oracle: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    keys = [k for k in model["train"] if k in model["val"]]
    return {
        "fit_gap_db": {k: round(oracle["train"][k] - model["train"][k], 2) for k in keys},
        "generalisation_gap_db": {
            k: round(
                (model["train"][k] - model["val"][k]) - (oracle["train"][k] - oracle["val"][k]), 2
            )
            for k in keys
        },
    }


def spread(names: list[str], count: int) -> list[str]:
    """`count` names evenly over the sorted list (the builder writes styles and soundfonts in
    turn, so a prefix would see only a few of them)."""
    if count >= len(names):
        return names
    picks = np.linspace(0, len(names) - 1, count).round().astype(int)
    return [names[i] for i in picks]


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m plugins.separation.diagnose", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--checkpoint", type=Path, action="append", required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_STYLES_OUT)
    parser.add_argument("--train-songs", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(list(argv))
    torch.set_num_threads(args.threads)
    train = load_songs(args.data / "train")
    val = load_songs(args.data / "val")
    if not train or not val:
        print(
            f"no train or val songs under {args.data}; python -m "
            "plugins.separation.build_styles builds them",
            file=sys.stderr,
        )
        return 2
    picked = {n: train[n] for n in spread(sorted(train), args.train_songs)}
    sets = {"train": excerpts(picked, args.seconds), "val": excerpts(val, args.seconds)}
    oracle = {k: framewise_scores(v, ideal_mask_estimates) for k, v in sets.items()}
    report: dict[str, object] = {
        "metric": "mean over songs and channels of the median SDR (dB) over 1 s frames, at "
        f"{INTERNAL_RATE} Hz per channel, first {args.seconds:g} s of each song",
        "songs": {"train": list(picked), "val": len(val)},
        "ideal_mask": oracle,
    }
    models: dict[str, object] = {}
    for path in args.checkpoint:
        network, refiner, _record = load_with_refiner(path)
        network = channels_last(network).eval()
        if refiner is not None:
            refiner.eval()
        run = functools.partial(model_estimates, network, refiner)
        scores = {k: framewise_scores(v, run) for k, v in sets.items()}
        models[str(path)] = {**scores, **gaps(scores, oracle)}
    report["checkpoints"] = models
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
