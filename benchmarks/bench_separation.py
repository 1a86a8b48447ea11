"""Stem separation speed and memory: real-time factor on a 3-minute 44.1 kHz stereo track (with
HPSS on the same track as the baseline measured in the same run), and peak memory against
track length for the streaming separator vs separating the whole track in memory.

    .venv/bin/python -m benchmarks.bench_separation [--checkpoint PATH] [--seconds 180]
    dawhost bench separation --json
    .venv/bin/python -m benchmarks.bench_separation --checkpoint NEW --compare OLD \
        --repeats 3 --quick --lengths ""    # two checkpoints' speed, same run, fastest of 3

Each measurement runs in its own subprocess so peak RSS belongs to that measurement alone.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from host.progress import Stage

RATE = 44_100


def synth_track(path: Path, seconds: float, seed: int = 0) -> None:
    """A deterministic stand-in for a song: chords, a bass line, noise-burst drums, stereo."""
    import soundfile

    rng = np.random.default_rng(seed)
    with soundfile.SoundFile(str(path), "w", RATE, 2, subtype="PCM_16") as out:
        block = RATE * 2  # one 2 s bar at a time, so long tracks need no big buffers
        for bar in range(int(np.ceil(seconds / 2))):
            n = min(block, int(seconds * RATE) - bar * block)
            t = np.arange(n) / RATE
            root = 110 * 2 ** (rng.integers(0, 12) / 12)
            chord = sum(0.1 * np.sin(2 * np.pi * root * 2 * r * t) for r in (1, 1.26, 1.5))
            bass = 0.3 * np.sin(2 * np.pi * root / 2 * t)
            drums = np.zeros(n)
            for beat in range(4):
                start = int(beat * RATE / 2)
                if start < n:
                    hit = rng.standard_normal(min(2000, n - start)) * np.exp(
                        -np.arange(min(2000, n - start)) / 300
                    )
                    drums[start : start + hit.size] += 0.4 * hit
            left, right = chord + bass + drums, 0.8 * chord + bass + drums
            out.write(np.stack([left, right], axis=1) * 0.7)


def child(mode: str, track: str, checkpoint: str, threads: int) -> dict[str, float]:
    """One measurement, run in a fresh process: prints peak RSS and wall time."""
    import soundfile
    import torch

    torch.set_num_threads(threads)
    from plugins.separation.baselines import hpss
    from plugins.separation.separate import Separator
    from plugins.separation.stems import STEMS

    loaded = Separator.from_checkpoint(Path(checkpoint))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    before, cpu_before = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    if mode in ("stream", "stream_wiener", "stream_mid_masks"):
        separator = Separator(
            loaded.network,
            1 if mode == "stream_wiener" else 0,
            refiner=None if mode == "stream_mid_masks" else loaded.refiner,
        )
        with tempfile.TemporaryDirectory() as folder:
            targets = {s: Path(folder) / f"{s}.wav" for s in STEMS}
            separator.separate_file(Path(track), targets)
    elif mode == "in_memory":
        audio, rate = soundfile.read(track, dtype="float32", always_2d=True)
        loaded.separate(audio, rate)
    elif mode == "hpss":
        audio, rate = soundfile.read(track, dtype="float32", always_2d=True)
        hpss(audio, rate)
    elif mode != "idle":
        raise ValueError(mode)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_before,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "rss_before_mb": before,
    }


def measure(mode: str, track: Path, checkpoint: Path, threads: int) -> dict[str, float]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_separation",
            "--child",
            mode,
            str(track),
            str(checkpoint),
            str(threads),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] = ()) -> int:
    from plugins.separation.checkpoint import DEFAULT_CHECKPOINT

    parser = argparse.ArgumentParser(prog="dawhost bench separation", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--lengths", default="30,180", help="track lengths for memory, s")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--compare",
        type=Path,
        action="append",
        default=[],
        help="another checkpoint whose streaming speed is measured in the same run, each "
        "right after --checkpoint's (repeatable)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="measure the streaming runs this many times, interleaved, and keep each one's "
        "fastest (on a shared machine the other processes only ever slow a run down)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="leave out the Wiener and mid-masks-only runs"
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(list(argv))
    if args.child:
        mode, track, checkpoint, threads = args.child
        print(json.dumps(child(mode, track, checkpoint, int(threads))))
        return 0

    lengths = [x for x in args.lengths.split(",") if x]
    extra_modes = () if args.quick else ("stream_mid_masks", "stream_wiener")
    streams = args.repeats * (1 + len(args.compare))
    runs = streams + len(extra_modes) + 1 + 2 * len(lengths) + 1
    run = Stage("separation bench", runs, unit="run").counting(measure)
    load_at_start = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory() as folder:
        track = Path(folder) / "track.wav"
        synth_track(track, args.seconds)
        timed: dict[Path, list[dict[str, float]]] = {args.checkpoint: []}
        timed.update({path: [] for path in args.compare})
        for _ in range(args.repeats):
            for path, times in timed.items():
                times.append(run("stream", track, path, args.threads))
        fastest = {path: min(times, key=lambda t: t["seconds"]) for path, times in timed.items()}
        speed = {"stream": fastest[args.checkpoint]}
        speed.update({m: run(m, track, args.checkpoint, args.threads) for m in extra_modes})
        speed["hpss"] = run("hpss", track, args.checkpoint, args.threads)
        memory = []
        for length in (float(x) for x in lengths):
            short = Path(folder) / f"track{length:g}.wav"
            synth_track(short, length, seed=1)
            row: dict[str, float] = {"track_seconds": length}
            for mode in ("stream", "in_memory"):
                row[f"{mode}_peak_rss_mb"] = round(
                    run(mode, short, args.checkpoint, args.threads)["peak_rss_mb"], 1
                )
            memory.append(row)
            short.unlink()
        idle = run("idle", track, args.checkpoint, args.threads)
    stream_rtf = speed["stream"]["seconds"] / args.seconds
    names = {
        "stream": "model",
        "stream_mid_masks": "model_mid_masks_only",
        "stream_wiener": "model_with_wiener",
        "hpss": "hpss_baseline",
    }
    rtf = {m: round(v["seconds"] / args.seconds, 4) for m, v in speed.items()}
    report = {
        "benchmark": "separation",
        "track": {
            "seconds": args.seconds,
            "rate_hz": RATE,
            "channels": 2,
            "content": "synthetic chords, bass and noise-burst drums",
        },
        "threads": args.threads,
        "cpu_count": os.cpu_count(),
        "checkpoint": str(args.checkpoint),
        "load_average_1min_at_start": load_at_start,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "real_time_factor": {
            **{name: rtf[m] for m, name in names.items() if m in rtf},
            "unit": "seconds of processing per second of audio (lower is faster)",
        },
        # CPU seconds per audio second: what the real-time factor would be with a free core
        # per thread; on a shared machine wall time mostly measures the other processes.
        "cpu_real_time_factor": {
            m: round(v["cpu_seconds"] / args.seconds, 4) for m, v in speed.items()
        },
        "seconds": {m: round(v["seconds"], 2) for m, v in speed.items()},
        "model_vs_hpss_time_ratio": round(speed["stream"]["seconds"] / speed["hpss"]["seconds"], 3),
        "goal_rtf_0_05_met": bool(stream_rtf <= 0.05),
        "repeats": args.repeats,
        "stream_seconds_each_repeat": {
            str(path): [round(t["seconds"], 2) for t in times] for path, times in timed.items()
        },
        "compared": [
            {
                "checkpoint": str(path),
                "real_time_factor": round(fastest[path]["seconds"] / args.seconds, 4),
                "cpu_real_time_factor": round(fastest[path]["cpu_seconds"] / args.seconds, 4),
                "time_vs_checkpoint": round(
                    fastest[path]["seconds"] / speed["stream"]["seconds"], 3
                ),
                "goal_rtf_0_05_met": bool(fastest[path]["seconds"] / args.seconds <= 0.05),
            }
            for path in args.compare
        ],
        "peak_memory_vs_length": memory,
        "idle_process_rss_mb": round(idle["peak_rss_mb"], 1),
        "note": "peak RSS per fresh subprocess (Python + torch + model included; see "
        "idle_process_rss_mb); stream = windowed file-to-file separation used by the "
        "plugin, in_memory = the whole track as one array; mid_masks_only = the same without "
        "the stereo refiner (one mask for both channels)",
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
