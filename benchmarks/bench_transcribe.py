"""Transcription speed: real-time factor on a 3-minute 44.1 kHz stereo track made of the
held-out test renders (piano, guitar, voices, winds...), end to end from the file (reading,
resampling to 16 kHz, network, decoding), with librosa pyin + onset detection, the
evaluation's baseline, timed in the same run on the first `--baseline-seconds` of the track.

    .venv/bin/python -m benchmarks.bench_transcribe [--checkpoint PATH] [--seconds 180]
    dawhost bench transcribe --json

Wall time and CPU time are both reported: the machine is shared, so wall RTF moves with the
load; CPU RTF does less. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from host.progress import Stage

RATE = 44_100
GOAL_RTF = 0.05


def make_track(path: Path, seconds: float, data: Path) -> int:
    """The test renders back to back up to `seconds`; returns how many were used. Without a
    built data set, a synthetic stand-in (plucked tones, chords) of the same length."""
    import soundfile

    clips = sorted((data / "test").glob("*.wav"))
    parts, total, used = [], 0, 0
    for clip in clips:
        audio, rate = soundfile.read(clip, dtype="float32", always_2d=True)
        if rate != RATE:
            continue
        parts.append(audio)
        total += len(audio)
        used += 1
        if total >= seconds * RATE:
            break
    if total < seconds * RATE:
        rng = np.random.default_rng(0)
        t = np.arange(RATE // 2) / RATE
        while total < seconds * RATE:
            hz = 110 * 2 ** (rng.integers(0, 36, 3) / 12)
            tone = sum(np.exp(-3 * t) * np.sin(2 * np.pi * f * t) for f in hz) * 0.1
            parts.append(np.repeat(tone[:, None], 2, axis=1).astype(np.float32))
            total += len(tone)
    track = np.concatenate(parts)[: int(seconds * RATE)]
    soundfile.write(path, track, RATE, subtype="PCM_16")
    return used


def timed(fn):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: Sequence[str] = ()) -> int:
    from plugins.transcribe.build_data import DEFAULT_OUT
    from plugins.transcribe.checkpoint import DEFAULT_CHECKPOINT

    parser = argparse.ArgumentParser(prog="dawhost bench transcribe", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--data", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--baseline-seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(list(argv))

    import torch

    torch.set_num_threads(args.threads)
    from plugins.transcribe.baseline import pyin_notes
    from plugins.transcribe.features import SAMPLE_RATE
    from plugins.transcribe.transcriber import Transcriber, read_mono

    model = Transcriber.from_checkpoint(args.checkpoint)
    measure = Stage("transcribe bench", 3, unit="measurement").counting(timed)
    with tempfile.TemporaryDirectory() as folder:
        track = Path(folder) / "track.wav"
        used = make_track(track, args.seconds, args.data)
        model.transcribe(read_mono(track)[: SAMPLE_RATE * 5])  # warm-up (allocator, kernels)
        audio, read_wall, read_cpu = measure(lambda: read_mono(track))
        notes, model_wall, model_cpu = measure(lambda: model.transcribe(audio))
        excerpt = audio[: int(args.baseline_seconds * SAMPLE_RATE)]
        _, base_wall, base_cpu = measure(lambda: pyin_notes(excerpt))
    seconds = len(audio) / SAMPLE_RATE
    excerpt_seconds = len(excerpt) / SAMPLE_RATE
    rtf = (read_wall + model_wall) / seconds
    report = {
        "track_seconds": round(seconds, 1),
        "test_renders_in_track": used,
        "threads": args.threads,
        "notes_found": len(notes),
        "model": {
            "read_and_resample_s": round(read_wall, 3),
            "transcribe_s": round(model_wall, 3),
            "rtf": round(rtf, 4),
            "rtf_cpu": round((read_cpu + model_cpu) / seconds, 4),
        },
        "baseline_pyin": {
            "seconds_timed": round(excerpt_seconds, 1),
            "rtf": round(base_wall / excerpt_seconds, 4),
            "rtf_cpu": round(base_cpu / excerpt_seconds, 4),
        },
        "speedup_vs_baseline": round((base_wall / excerpt_seconds) / rtf, 1),
        "goal_rtf": GOAL_RTF,
        "goal_met": bool(rtf <= GOAL_RTF),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
