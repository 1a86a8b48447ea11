"""Evaluation on the held-out test clips (a soundfont never heard in training, corpus pieces
of the test split, generated material with its own seed, and vocal-tts sung lines): the
network against a librosa pyin + onset baseline, both measured in this run.

    dawhost eval transcribe --json [--checkpoint PATH] [--limit N] [--report FILE]

Per group (mono, poly, sung) the mean over clips of mir_eval's note F1 with onsets within
50 ms, note F1 with onsets and offsets (offset within 20 % of the note or 50 ms), and raw
pitch accuracy within 50 cents (frames where the reference has one note sounding; poly clips
have none, so pitch accuracy is reported for mono and sung only).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from host.progress import track
from host.reports import write_json_report
from plugins.transcribe.build_data import DEFAULT_OUT
from plugins.transcribe.checkpoint import DEFAULT_CHECKPOINT
from plugins.transcribe.decode import SecondsNote
from plugins.transcribe.features import SAMPLE_RATE

PITCH_HOP = 0.01  # seconds between pitch-accuracy frames
GOAL_MONO_F1 = 0.9
GOAL_MARGIN = 0.2


def note_scores(reference: np.ndarray, estimate: list[SecondsNote]) -> dict[str, float]:
    import mir_eval

    ref_i = reference[:, 2:4].astype(float)
    ref_p = mir_eval.util.midi_to_hz(reference[:, 0].astype(float))
    est_i = np.array([[n.onset, max(n.offset, n.onset + 0.01)] for n in estimate], float)
    est_i = est_i.reshape(-1, 2)
    est_p = mir_eval.util.midi_to_hz(np.array([n.pitch for n in estimate], float))
    with warnings.catch_warnings():  # an empty estimate is a score of 0, not a problem
        warnings.simplefilter("ignore", UserWarning)
        p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
            ref_i, ref_p, est_i, est_p, onset_tolerance=0.05, offset_ratio=None
        )
        _, _, f_off, _ = mir_eval.transcription.precision_recall_f1_overlap(
            ref_i, ref_p, est_i, est_p, onset_tolerance=0.05, offset_ratio=0.2
        )
    return {"onset_f1": f, "onset_precision": p, "onset_recall": r, "onset_offset_f1": f_off}


def notes_to_f0(notes: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Hz per time from note rows (pitch, velocity, onset, offset): the highest sounding
    note, 0 where none sounds."""
    f0 = np.zeros_like(times)
    for pitch, _, onset, offset in notes:
        hz = 440.0 * 2 ** ((pitch - 69) / 12)
        at = (times >= onset) & (times < offset)
        f0[at] = np.maximum(f0[at], hz)
    return f0


def raw_pitch(reference: np.ndarray, times: np.ndarray, est_f0: np.ndarray) -> float:
    import mir_eval

    ref_f0 = notes_to_f0(reference, times)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ref_v, ref_c, est_v, est_c = mir_eval.melody.to_cent_voicing(times, ref_f0, times, est_f0)
    return float(mir_eval.melody.raw_pitch_accuracy(ref_v, ref_c, est_v, est_c, cent_tolerance=50))


def rows(notes: list[SecondsNote]) -> np.ndarray:
    return np.array([[n.pitch, n.velocity, n.onset, n.offset] for n in notes], float).reshape(-1, 4)


def group_of(labels: dict) -> str:  # type: ignore[type-arg]
    return "sung" if labels["kind"] == "sung" else labels["kind"]


def evaluate(
    data: Path, checkpoint: Path, limit: int | None, baseline: bool, baseline_every: int = 1
) -> dict:  # type: ignore[type-arg]
    from plugins.transcribe.baseline import pyin_notes
    from plugins.transcribe.transcriber import Transcriber, read_mono

    transcriber = Transcriber.from_checkpoint(checkpoint)
    clips = sorted((data / "test").glob("*.json"))[: limit or None]
    if not clips:
        raise SystemExit(f"no test clips in {data / 'test'}; run plugins.transcribe.build_data")
    scores: dict[str, dict[str, dict[str, list[float]]]] = {}
    seconds = {"audio": 0.0, "model": 0.0, "baseline": 0.0}
    baseline_audio = 0.0
    for index, path in enumerate(track(clips, "transcribe: test clips", unit="clip")):
        labels = json.loads(path.read_text())
        reference = np.array(labels["notes"], float).reshape(-1, 4)
        audio = read_mono(path.with_suffix(".wav"))
        seconds["audio"] += len(audio) / SAMPLE_RATE
        group = group_of(labels)
        times = np.arange(0, len(audio) / SAMPLE_RATE, PITCH_HOP)
        methods = {}
        started = time.perf_counter()
        estimate = transcriber.transcribe(audio)
        seconds["model"] += time.perf_counter() - started
        methods["model"] = (estimate, notes_to_f0(rows(estimate), times))
        with_baseline = baseline and index % baseline_every == 0
        if with_baseline and baseline_every > 1:  # the model on exactly the baseline's clips
            methods["model_on_pyin_clips"] = methods["model"]
        if with_baseline:
            started = time.perf_counter()
            base_notes, base_times, base_f0 = pyin_notes(audio)
            seconds["baseline"] += time.perf_counter() - started
            baseline_audio += len(audio) / SAMPLE_RATE
            methods["pyin"] = (base_notes, np.interp(times, base_times, base_f0, left=0, right=0))
        for method, (notes, f0) in methods.items():
            entry = note_scores(reference, notes)
            if group != "poly":
                entry["raw_pitch_accuracy"] = raw_pitch(reference, times, f0)
            bucket = scores.setdefault(method, {}).setdefault(group, {})
            for name, value in entry.items():
                bucket.setdefault(name, []).append(float(value))
    summary = {
        method: {
            group: {"clips": len(values["onset_f1"])}
            | {name: round(float(np.mean(v)), 4) for name, v in values.items()}
            for group, values in groups.items()
        }
        for method, groups in scores.items()
    }
    report: dict = {  # type: ignore[type-arg]
        "checkpoint": str(checkpoint),
        "test_clips": len(clips),
        "audio_seconds": round(seconds["audio"], 1),
        "soundfont": "TimGM6mb.sf2 (held out) and vocal-tts for sung",
        "results": summary,
        "baseline_every": baseline_every,
        "rtf": {"model": round(seconds["model"] / seconds["audio"], 4)},
    }
    if baseline_audio:
        report["rtf"]["baseline"] = round(seconds["baseline"] / baseline_audio, 4)
    mono = summary["model"].get("mono", {}).get("onset_f1")
    base = summary.get("pyin", {}).get("mono", {}).get("onset_f1")
    paired: float | None = (
        summary.get("model_on_pyin_clips", summary["model"]).get("mono", {}).get("onset_f1")
    )
    if mono is not None:
        report["goal_mono_onset_f1"] = {
            "value": mono,
            "goal": GOAL_MONO_F1,
            "met": bool(mono >= GOAL_MONO_F1),
            "baseline": base,
            "model_on_baseline_clips": paired,
            "margin_goal_met": None
            if base is None or paired is None
            else bool(paired >= base + GOAL_MARGIN),
        }
    return report


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(prog="dawhost eval transcribe", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--data", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--limit", type=int, default=None, help="score only the first N clips")
    parser.add_argument("--no-baseline", action="store_true", help="skip pyin (it is slow)")
    parser.add_argument(
        "--baseline-every",
        type=int,
        default=1,
        help="run pyin on every Nth clip only (it is ~10x slower than the model); the model's "
        "figures on those same clips are reported as model_on_pyin_clips",
    )
    parser.add_argument("--report", type=Path, help="also write the JSON here")
    args = parser.parse_args(list(argv))
    import torch

    torch.set_num_threads(1)
    report = evaluate(
        args.data, args.checkpoint, args.limit, not args.no_baseline, args.baseline_every
    )
    print(write_json_report(report, args.report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
