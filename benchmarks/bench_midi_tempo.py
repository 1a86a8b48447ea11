"""Tempo tracking from jittered MIDI clock: error 1 and 4 beats after a change 120 -> 90 BPM.

Each trial sends 4 beats of 24 PPQN clock at 120 BPM then 90 BPM. Every tick gets Gaussian
sender jitter (sigma 1 ms by default) and is then delivered on the next boundary of a 64-frame
JACK period at 48 kHz (random phase), as rtmidi's JACK backend delivers it. The same tick times
feed dawhost's `TempoEstimator` and, in the same run, two common baselines:
  - moving average of the last 24 tick intervals (one beat), position = the last tick's arrival;
  - the last tick interval alone.
Figures: tempo error (BPM) and position error (ms from the true tick time), median and p95 over
trials. Prints one JSON object.

    .venv/bin/python -m benchmarks.bench_midi_tempo [--trials 300] [--jitter-ms 1.0]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import deque

import numpy as np

from protocols.midi_clock import TICKS_PER_BEAT, TempoEstimator

PERIOD = 64 / 48_000
BEFORE_BEATS, AFTER_BEATS = 4, 5
CHECKPOINTS = {"after_1_beat": 1, "after_4_beats": 4}


def arrivals(rng: random.Random, jitter: float) -> tuple[list[float], list[float], int]:
    """True tick times, arrival times, and the index of the first tick at the new tempo."""
    truth = []
    t = 10.0
    for index in range((BEFORE_BEATS + AFTER_BEATS) * TICKS_PER_BEAT):
        truth.append(t)
        bpm = 120.0 if index < BEFORE_BEATS * TICKS_PER_BEAT else 90.0
        t += 60.0 / (bpm * TICKS_PER_BEAT)
    phase = rng.uniform(0.0, PERIOD)
    arrived = []
    last = 0.0
    for when in truth:
        sent = when + rng.gauss(0.0, jitter)
        delivered = math.ceil((sent - phase) / PERIOD) * PERIOD + phase
        last = max(last, delivered)  # MIDI keeps its order
        arrived.append(last)
    return truth, arrived, BEFORE_BEATS * TICKS_PER_BEAT


class MovingAverage:
    def __init__(self, window: int) -> None:
        self.intervals: deque[float] = deque(maxlen=window)
        self.last: float | None = None

    def tick(self, when: float) -> tuple[float, float] | None:
        if self.last is not None:
            self.intervals.append(when - self.last)
        self.last = when
        if not self.intervals:
            return None
        period = sum(self.intervals) / len(self.intervals)
        return 60.0 / (period * TICKS_PER_BEAT), when


def one_trial(seed: int, jitter: float) -> dict[str, dict[str, tuple[float, float]]]:
    rng = random.Random(seed)
    truth, arrived, change = arrivals(rng, jitter)
    trackers = {
        "dawhost": TempoEstimator(),
        "baseline_moving_average_1_beat": MovingAverage(TICKS_PER_BEAT),
        "baseline_last_interval": MovingAverage(1),
    }
    wanted = {change + beats * TICKS_PER_BEAT - 1: name for name, beats in CHECKPOINTS.items()}
    result: dict[str, dict[str, tuple[float, float]]] = {name: {} for name in trackers}
    for index, when in enumerate(arrived):
        for name, tracker in trackers.items():
            estimate = tracker.tick(when)
            if index in wanted and estimate is not None:
                if isinstance(tracker, TempoEstimator):
                    tempo, position = estimate.tempo, estimate.time  # type: ignore[union-attr]
                else:
                    tempo, position = estimate  # type: ignore[misc]
                result[name][wanted[index]] = (abs(tempo - 90.0), abs(position - truth[index]))
    return result


def summarise(values: list[float], scale: float = 1.0) -> dict[str, float]:
    array = np.asarray(values) * scale
    return {
        "median": round(float(np.median(array)), 4),
        "p95": round(float(np.percentile(array, 95)), 4),
    }


def report_for(trials: list[dict[str, dict[str, tuple[float, float]]]]) -> dict[str, object]:
    report: dict[str, object] = {}
    for name in trials[0]:
        report[name] = {
            checkpoint: {
                "tempo_error": summarise([t[name][checkpoint][0] for t in trials]),
                "position_error": summarise([t[name][checkpoint][1] for t in trials], 1000.0),
            }
            for checkpoint in CHECKPOINTS
        }
    ratios = {}
    for checkpoint in CHECKPOINTS:
        ours = report["dawhost"][checkpoint]  # type: ignore[index]
        base = report["baseline_moving_average_1_beat"][checkpoint]  # type: ignore[index]
        for figure in ("tempo_error", "position_error"):
            ratios[f"{figure}_{checkpoint}_median"] = round(
                base[figure]["median"] / max(ours[figure]["median"], 1e-9), 2
            )
    report["ratio_moving_average_over_dawhost"] = ratios
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument(
        "--jitter-ms", type=float, nargs="+", default=[1.0, 3.0], help="sender jitter sigmas"
    )
    args = parser.parse_args(argv)
    report: dict[str, object] = {
        "benchmark": "midi_tempo_tracking",
        "change": "120 -> 90 BPM",
        "trials": args.trials,
        "delivery": "next 64-frame JACK period at 48 kHz (1.333 ms), random phase",
        "units": {"tempo_error": "BPM", "position_error": "ms from the true tick time"},
    }
    for jitter in args.jitter_ms:
        trials = [one_trial(seed, jitter / 1000.0) for seed in range(args.trials)]
        report[f"sender_jitter_sigma_{jitter:g}_ms"] = report_for(trials)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
