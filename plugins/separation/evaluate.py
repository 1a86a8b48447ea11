"""Evaluation: SDR per stem on the held-out test songs, for the trained model(s), the oracle
ideal ratio mask (upper bound) and HPSS (baseline), all measured in the same run.

    dawhost eval separation --json [--checkpoint PATH ...] [--wiener] [--limit N]
        # the many-style data's held-out style and soundfont (build_styles; --build-data)
    dawhost eval separation --json --data data/separation --split test   # the chorale songs

Prints one JSON object. Per method and stem: the median over tracks of each track's median
SDR over 1 s frames (SiSEC style); per split (`--split`, folders under `--data`), and the
chorale `test` split also by soundfont (held out vs seen in training). `goals.splits` gives,
per split, the first model's gap to the oracle IRM and its "other" SDR. Without `--split`:
the splits `--data` holds of test_style and test_soundfont, else `test`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import soundfile

from host.progress import note, track
from plugins.separation.baselines import hpss, oracle_internal_mask, oracle_irm
from plugins.separation.build_data import SPLIT_FILE
from plugins.separation.build_styles import DEFAULT_STYLES_OUT, TEST_SPLITS
from plugins.separation.checkpoint import DEFAULT_CHECKPOINT, load_with_refiner
from plugins.separation.metrics import framewise_sdr
from plugins.separation.separate import Separator
from plugins.separation.stems import HELD_OUT_SOUNDFONT, INTERNAL_RATE, STEMS

Method = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def load_track(folder: Path) -> tuple[np.ndarray, np.ndarray, int]:
    mixture, rate = soundfile.read(folder / "mixture.wav", dtype="float32", always_2d=True)
    stems = np.stack(
        [soundfile.read(folder / f"{s}.wav", dtype="float32", always_2d=True)[0] for s in STEMS]
    )
    return mixture, stems, int(rate)


def summarise(scores: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for method, per_stem in scores.items():
        medians = {s: round(float(np.median(v)), 2) for s, v in per_stem.items() if v}
        medians["mean"] = round(float(np.mean(list(medians.values()))), 2)
        out[method] = medians
    return out


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(prog="dawhost eval separation", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_STYLES_OUT,
        help="a build_styles (default) or build_data output folder",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        help="checkpoint(s) to score (default: the committed one)",
    )
    parser.add_argument(
        "--wiener",
        action="store_true",
        help="also score the first checkpoint with Wiener filtering",
    )
    parser.add_argument(
        "--limit", type=int, default=0, help="score N tracks, half on the held-out soundfont"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="score only the checkpoints and the oracle IRM (no internal-rate oracles, HPSS or "
        "mid-mask variants): about half the time, for comparing checkpoints",
    )
    parser.add_argument(
        "--split",
        action="append",
        help="test split folder(s) under --data, each reported on its own (default: those of "
        "test_style and test_soundfont it holds, which build_styles makes, else test)",
    )
    args = parser.parse_args(list(argv))
    import torch

    torch.set_num_threads(args.threads)
    splits: dict[str, list[Path]] = {}
    for split in args.split or _default_splits(args.data):
        found = _split_folders(args.data / split, args.limit)
        if not found:
            print(f"no test songs in {args.data / split}; {_build_hint(split)}", file=sys.stderr)
            return 2
        splits[split] = found
    folders = [f for found in splits.values() for f in found]
    methods: dict[str, Method] = {}
    records: dict[str, object] = {}
    for i, path in enumerate(args.checkpoint or [DEFAULT_CHECKPOINT]):
        network, refiner, record = load_with_refiner(path)
        name = str(record.get("variant", path.stem))
        name = name if name not in methods else f"{name}-{i}"
        records[name] = {
            "checkpoint": str(path),
            "steps": record.get("step"),
            "train_minutes": record.get("minutes"),
            "parameters": sum(p.numel() for p in network.parameters()),
            "stereo_refiner_parameters": (
                sum(p.numel() for p in refiner.parameters()) if refiner else 0
            ),
        }
        methods[name] = _model_method(Separator(network, refiner=refiner))
        if refiner is not None and not args.quick:  # one mask for both channels
            methods[f"{name}-mid-masks"] = _model_method(Separator(network))
        if args.wiener and i == 0:
            methods[f"{name}+wiener"] = _model_method(
                Separator(network, wiener_iterations=1, refiner=refiner)
            )
    methods["oracle_irm"] = _oracle
    if not args.quick:
        methods["oracle_internal_mask"] = _oracle_internal
        methods["oracle_internal_stereo_mask"] = _oracle_internal_stereo
        methods["hpss"] = _hpss

    groups: dict[str, list[Path]] = {"all": folders}
    if "test" in splits:
        chorales = splits["test"]
        groups["held_out_soundfont"] = [f for f in chorales if HELD_OUT_SOUNDFONT[:-4] in f.name]
        groups["training_soundfonts"] = [
            f for f in chorales if HELD_OUT_SOUNDFONT[:-4] not in f.name
        ]
    if len(splits) > 1 or "test" not in splits:
        groups.update(splits)
    by_track: dict[str, dict[str, dict[str, float | None]]] = {}
    seconds = {m: 0.0 for m in methods}
    audio_seconds = 0.0
    for folder in track(folders, "separation: test songs", unit="song"):
        mixture, stems, rate = load_track(folder)
        audio_seconds += mixture.shape[0] / rate
        by_track[folder.name] = {}
        for method, run in methods.items():
            start = time.perf_counter()
            estimates = run(mixture, stems, rate)
            seconds[method] += time.perf_counter() - start
            track_scores: dict[str, float | None] = {}
            for i, stem in enumerate(STEMS):
                value = framewise_sdr(stems[i], estimates[i], rate)
                track_scores[stem] = None if value is None else round(value, 2)
            by_track[folder.name][method] = track_scores
        note(
            f"{folder.name}: "
            + ", ".join(
                f"{m} {np.mean([v for v in t.values() if v is not None]):.1f}"
                for m, t in by_track[folder.name].items()
            )
        )

    def group_scores(names: list[Path]) -> dict[str, dict[str, float]]:
        picked: dict[str, dict[str, list[float]]] = {
            m: {s: [v for f in names if (v := by_track[f.name][m][s]) is not None] for s in STEMS}
            for m in methods
        }
        return summarise(picked)

    summary = {g: group_scores(names) for g, names in groups.items() if names}
    main_method = next(iter(methods))
    overall = summary["all"]
    model_mean = overall[main_method]["mean"]
    report = {
        "task": "separation",
        "metric": "SDR in dB (BSS Eval via fast_bss_eval, 512-tap filter; median over 1 s "
        "frames, then median over tracks); stems absent from a track are skipped",
        "test_set": {
            "tracks": len(folders),
            "seconds": round(audio_seconds, 1),
            "rate_hz": _rate_of(folders),
            "held_out_soundfont": HELD_OUT_SOUNDFONT,
            "held_out_soundfont_tracks": len(groups.get("held_out_soundfont", [])),
            "splits": {split: len(found) for split, found in splits.items()},
            "split_file": str(SPLIT_FILE.name),
            # packages and soundfonts the songs were rendered with (figures from different
            # builds of the same seeds differ a little)
            "build": _build_record(args.data),
        },
        "internal_rate_hz": INTERNAL_RATE,
        "models": records,
        "sdr_db": summary,
        "goals": {
            "model": main_method,
            "gap_to_oracle_irm_db": round(overall["oracle_irm"]["mean"] - model_mean, 2),
            "within_3db_of_oracle": bool(overall["oracle_irm"]["mean"] - model_mean <= 3.0),
            **({} if args.quick else _design_goals(overall, main_method)),
            "splits": {
                split: _split_goals(summary.get(split, overall), main_method) for split in splits
            },
        },
        "seconds_per_audio_second": {m: round(s / audio_seconds, 4) for m, s in seconds.items()},
        "per_track": by_track,
    }
    print(json.dumps(report, indent=1))
    return 0


def _design_goals(overall: dict[str, dict[str, float]], model: str) -> dict[str, object]:
    """Gaps to the oracles held to this design, and drums against HPSS."""
    model_mean = overall[model]["mean"]
    drums_over_hpss = round(overall[model]["drums"] - overall["hpss"]["drums"], 2)
    return {
        "gap_to_oracle_internal_mask_db": round(
            overall["oracle_internal_mask"]["mean"] - model_mean, 2
        ),
        "gap_to_oracle_internal_stereo_mask_db": round(
            overall["oracle_internal_stereo_mask"]["mean"] - model_mean, 2
        ),
        "drums_minus_hpss_db": drums_over_hpss,
        "drums_3db_above_hpss": bool(drums_over_hpss >= 3.0),
    }


def _default_splits(data: Path) -> list[str]:
    """The generalisation splits `data` holds (a build_styles folder), else the chorale `test`
    split (a build_data folder)."""
    built = [s for s in TEST_SPLITS if any((data / s).glob("*/mixture.wav"))]
    return built or ["test"]


def _build_hint(split: str) -> str:
    """What builds `split`, said before anything is scored."""
    if split == "test":
        return (
            "build the chorale test songs first: python -m plugins.separation.build_data "
            "--only test (about 2 minutes), and pass --data data/separation"
        )
    only = " ".join(f"--only {s}" for s in TEST_SPLITS)
    return (
        "build the many-style test songs first: `dawhost eval separation --build-data` or "
        f"python -m plugins.separation.build_styles {only} (about 3 minutes)"
    )


def _split_folders(folder: Path, limit: int) -> list[Path]:
    """The split's song folders; with `limit`, N of them, alternating held-out and seen
    soundfonts (in the chorale split) so a subset keeps both."""
    folders = sorted(p for p in folder.glob("*") if (p / "mixture.wav").is_file())
    if limit:
        held = [f for f in folders if HELD_OUT_SOUNDFONT[:-4] in f.name]
        seen = [f for f in folders if HELD_OUT_SOUNDFONT[:-4] not in f.name]
        if held and seen:
            folders = sorted([f for pair in zip(held, seen, strict=False) for f in pair][:limit])
        else:
            folders = folders[:limit]
    return folders


def _split_goals(scores: dict[str, dict[str, float]], model: str) -> dict[str, object]:
    """Issue 26's goals on one split: within 2.5 dB of the oracle IRM, "other" >= 4 dB."""
    gap = round(scores["oracle_irm"]["mean"] - scores[model]["mean"], 2)
    other = scores[model].get("other")
    return {
        "model_mean_db": scores[model]["mean"],
        "oracle_irm_mean_db": scores["oracle_irm"]["mean"],
        "gap_to_oracle_irm_db": gap,
        "within_2_5db_of_oracle": bool(gap <= 2.5),
        "other_db": other,
        "other_at_least_4db": bool(other is not None and other >= 4.0),
    }


def _build_record(data: Path) -> object:
    path = data / "build.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _model_method(separator: Separator) -> Method:
    def run(mixture: np.ndarray, _stems: np.ndarray, rate: int) -> np.ndarray:
        return separator.separate(mixture, rate)

    return run


def _oracle(_mixture: np.ndarray, stems: np.ndarray, rate: int) -> np.ndarray:
    return oracle_irm(stems, rate)


def _oracle_internal(_mixture: np.ndarray, stems: np.ndarray, rate: int) -> np.ndarray:
    return oracle_internal_mask(stems, rate)


def _oracle_internal_stereo(_mixture: np.ndarray, stems: np.ndarray, rate: int) -> np.ndarray:
    return oracle_internal_mask(stems, rate, per_channel=True)


def _hpss(mixture: np.ndarray, _stems: np.ndarray, rate: int) -> np.ndarray:
    return hpss(mixture, rate)


def _rate_of(folders: list[Path]) -> int:
    return int(soundfile.info(str(folders[0] / "mixture.wav")).samplerate)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
