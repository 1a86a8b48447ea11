"""Benchmark: real-time factor of an 8-bar sung line at 120 BPM (16 s of audio) with vocal-tts.

`dawhost bench vocal-tts --json` (or `python -m benchmarks.bench_vocal_tts`) prints one JSON
object: the line's wall time split into front-end (espeak-ng, plan, pitch), acoustic model and
neural vocoder, its real-time factor (wall / audio seconds), and baselines timed in the same
run on the same line: the same mels through Griffin-Lim (32 iterations), the WORLD-sung teacher
(the non-neural pipeline the model learned from) and espeak-ng speaking the lyrics. Each figure
is the median of --repeats runs; the machine is shared, so compare the ratios (and the
CPU-time real-time factor, which other users' load inflates less than wall time).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from host import Note
from host.progress import Stage
from plugins.vocal_tts.audio import HOP, SAMPLE_RATE
from plugins.vocal_tts.checkpoint import DEFAULT_CHECKPOINT, load
from plugins.vocal_tts.espeak import speak
from plugins.vocal_tts.synthesis import Request, network_inputs, prepare, render
from plugins.vocal_tts.teacher import resynthesise, world_analysis

LYRICS = (
    "Morning light is on the river, every boat is sailing home, "
    "sing a little song together, we are never far alone"
)
TEMPO, BARS = 120.0, 8


def eight_bar_melody(syllables: int) -> list[Note]:
    """One syllable per half beat or beat over 8 bars of 4/4, a stepwise tune."""
    tune = [64, 66, 67, 69, 71, 69, 67, 66, 64, 62, 64, 66, 67, 66, 64, 62]
    lengths = [1.0, 0.5, 0.5, 1.0, 1.0]
    notes, beat = [], 0.0
    for k in range(syllables):
        length = lengths[k % len(lengths)]
        notes.append(Note(tune[k % len(tune)], 100, beat, length * 0.95))
        beat += length
    assert beat <= BARS * 4, "melody longer than 8 bars"
    return notes


def timed(function: Callable[[], object], repeats: int) -> float:
    """Median wall seconds of `repeats` calls; CPU seconds are kept in CPU_SECONDS."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    CPU_SECONDS.append(statistics.median(cpus))
    return statistics.median(walls)


CPU_SECONDS: list[float] = []  # process CPU time of the last `timed` call, for a shared machine


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="vocal-tts real-time factor (JSON)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="(the report is always JSON)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    bundle = load(args.checkpoint)
    from plugins.vocal_tts.phonemes import syllables

    count = len(syllables(speak(LYRICS).phones, LYRICS))
    request = Request(LYRICS, "sing", eight_bar_melody(count), TEMPO, 4.0, bars=BARS)
    seconds = BARS * 4 * 60.0 / TEMPO
    prepare(request)  # warm-up: espeak-ng initialisation, first torch calls
    prepared = prepare(request)
    render(bundle, prepared)
    inputs = network_inputs(bundle, prepared)

    def acoustic() -> torch.Tensor:
        with torch.inference_mode():
            return bundle.acoustic(
                inputs["phonemes"], inputs["durations"], inputs["f0"], inputs["speaker"]
            )

    mel = acoustic()

    def vocoder() -> torch.Tensor:
        with torch.inference_mode():
            return bundle.vocoder(mel, inputs["f0"])

    def teacher() -> np.ndarray:
        ready = prepare(request)
        assert ready.utterance is not None
        frames = len(ready.utterance.audio) // HOP
        _, sp, ap = world_analysis(ready.utterance.audio[: frames * HOP], frames)
        return resynthesise(ready.plan, ready.f0, sp, ap)

    measure = Stage("vocal-tts bench", 7, unit="measurement").counting(timed)
    total = measure(lambda: render(bundle, prepare(request)), args.repeats)
    total_cpu = CPU_SECONDS[-1]
    griffin = measure(lambda: render(bundle, prepare(request), "griffin-lim"), args.repeats)
    world = measure(teacher, args.repeats)
    espeak_only = measure(lambda: speak(LYRICS), args.repeats)
    espeak_seconds = len(speak(LYRICS).audio) / SAMPLE_RATE
    report = {
        "benchmark": "vocal-tts 8-bar sung line",
        "audio_seconds": seconds,
        "syllables": count,
        "threads": args.threads,
        "repeats": args.repeats,
        "model": {
            "wall_seconds": round(total, 3),
            "real_time_factor": round(total / seconds, 4),
            # CPU time over audio time: what the RTF would be with the cores to ourselves
            # (summed over threads, so it can exceed the wall figure).
            "cpu_real_time_factor": round(total_cpu / seconds, 4),
            "front_end_seconds": round(measure(lambda: prepare(request), args.repeats), 3),
            "acoustic_seconds": round(measure(acoustic, args.repeats), 3),
            "vocoder_seconds": round(measure(vocoder, args.repeats), 3),
        },
        "baselines": {
            "griffin_lim_32_iterations": {
                "wall_seconds": round(griffin, 3),
                "real_time_factor": round(griffin / seconds, 4),
            },
            "world_teacher": {
                "wall_seconds": round(world, 3),
                "real_time_factor": round(world / seconds, 4),
            },
            "espeak_ng_speech": {
                "wall_seconds": round(espeak_only, 4),
                "real_time_factor": round(espeak_only / espeak_seconds, 4),
            },
        },
        "ratios": {
            "model_vs_griffin_lim_speedup": round(griffin / total, 2),
            "model_vs_world_teacher_speedup": round(world / total, 2),
        },
        "goal_real_time_factor": 0.1,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
