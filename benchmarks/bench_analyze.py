"""Analysis speed: real-time factor on a 3-minute 44.1 kHz stereo track made of the held-out
test renders (3/4, 4/4 and 6/8 songs, with and without drums), end to end from the file
(reading, resampling to 16 kHz, network, decoding), with librosa's `beat_track`, the
evaluation's baseline, timed in the same run on the same track.

    .venv/bin/python -m benchmarks.bench_analyze [--checkpoint PATH] [--seconds 180]
    dawhost bench analyze --json --report plugins/analyze/reports/bench.json

Wall time and CPU time are both reported: the machine is shared, so wall RTF moves with the
load; CPU RTF does less. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.bench_transcribe import make_track, timed
from host.reports import write_json_report

GOAL_RTF = 0.05


def main(argv: Sequence[str] = ()) -> int:
    from plugins.analyze.build_data import DEFAULT_OUT
    from plugins.analyze.checkpoint import DEFAULT_CHECKPOINT

    parser = argparse.ArgumentParser(prog="dawhost bench analyze", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--data", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--report", type=Path, help="also write the JSON here")
    args = parser.parse_args(list(argv))

    import torch

    torch.set_num_threads(args.threads)
    from plugins.analyze.analyzer import Analyzer
    from plugins.analyze.evaluate import librosa_baseline
    from plugins.analyze.features import SAMPLE_RATE
    from plugins.transcribe.transcriber import read_mono

    model = Analyzer.from_checkpoint(args.checkpoint)
    with tempfile.TemporaryDirectory() as folder:
        track = Path(folder) / "track.wav"
        used = make_track(track, args.seconds, args.data)
        model.analyze(read_mono(track)[: SAMPLE_RATE * 5])  # warm-up (allocator, kernels)
        librosa_baseline(track)  # warm-up (numba compiles librosa's kernels on first use)
        audio, read_wall, read_cpu = timed(lambda: read_mono(track))
        found, model_wall, model_cpu = timed(lambda: model.analyze(audio))
        (_, base_beats), base_wall, base_cpu = timed(lambda: librosa_baseline(track))
    seconds = len(audio) / SAMPLE_RATE
    rtf = (read_wall + model_wall) / seconds
    base_rtf = base_wall / seconds
    report = {
        "track_seconds": round(seconds, 1),
        "test_renders_in_track": used,
        "threads": args.threads,
        "beats_found": len(found.beats),
        "model": {
            "read_and_resample_s": round(read_wall, 3),
            "analyze_s": round(model_wall, 3),
            "rtf": round(rtf, 4),
            "rtf_cpu": round((read_cpu + model_cpu) / seconds, 4),
        },
        "baseline_librosa_beat_track": {
            "beats_found": len(base_beats),
            "rtf": round(base_rtf, 4),
            "rtf_cpu": round(base_cpu / seconds, 4),
        },
        "speed_vs_baseline": round(base_rtf / rtf, 2),
        "goal_rtf": GOAL_RTF,
        "goal_met": bool(rtf <= GOAL_RTF),
        # The machine is shared: how busy it was says how far the wall figures can be trusted.
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(write_json_report(report, args.report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
