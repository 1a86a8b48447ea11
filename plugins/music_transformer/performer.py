"""Synthetic performed dynamics for score notes: the ground truth of the velocity evaluation.

The music21 scores have no velocities, and no performed MIDI is on this machine, so the
evaluation plays each held-out excerpt (primer and real continuation together) with dynamics
drawn per excerpt: an overall level, metric accents, louder high notes, a phrase arch over 1, 2
or 4 bars, a crescendo or diminuendo that may stop part-way, and noise. Each part is present
with probability 0.6, so some excerpts are flat. This is a model of a performance, not a
recording of one; the report says so beside every figure measured with it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from plugins.music_transformer.dynamics import BEAT, DOWNBEAT, HALF, metric_class


@dataclass(frozen=True)
class Performance:
    level: float
    accent: float
    height: float
    arch: float
    arch_bars: int
    ramp: float  # velocity per beat
    ramp_stops: float  # beat at which the ramp stops (it holds its value after)
    noise: float

    def velocity(
        self, pitch: int, beat: float, mean_pitch: float, beats_per_bar: float, rng: random.Random
    ) -> int:
        klass = metric_class(beat, beats_per_bar)
        accent = {DOWNBEAT: 1.0, BEAT: 0.45, HALF: 0.15}.get(klass, 0.0) * self.accent
        phrase = self.arch_bars * beats_per_bar
        arch = self.arch * (math.sin(math.pi * ((beat % phrase) / phrase)) - 2 / math.pi)
        ramp = self.ramp * min(beat, self.ramp_stops)
        value = (
            self.level
            + accent
            + self.height * (pitch - mean_pitch)
            + arch
            + ramp
            + rng.gauss(0.0, self.noise)
        )
        return int(min(127, max(1, round(value))))


def draw(rng: random.Random, span_beats: float) -> Performance:
    def maybe(value: float) -> float:
        return value if rng.random() < 0.6 else 0.0

    return Performance(
        level=rng.uniform(40, 100),
        accent=maybe(rng.uniform(4, 20)),
        height=maybe(rng.uniform(0.3, 1.5)),
        arch=maybe(rng.uniform(6, 24)),
        arch_bars=rng.choice((1, 2, 4)),
        ramp=maybe(rng.uniform(-2.0, 2.0)),
        ramp_stops=rng.uniform(0.4, 1.0) * span_beats,
        noise=rng.uniform(1.0, 4.0),
    )


def perform(
    pitches: Sequence[int],
    starts: Sequence[float],
    beats_per_bar: float,
    performance: Performance,
    rng: random.Random,
) -> list[int]:
    """Velocities for notes (onsets in beats from the excerpt's first bar line)."""
    mean_pitch = sum(pitches) / max(1, len(pitches))
    return [
        performance.velocity(p, b, mean_pitch, beats_per_bar, rng)
        for p, b in zip(pitches, starts, strict=True)
    ]
