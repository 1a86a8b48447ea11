"""Velocities for a continuation that follow the primer's phrase (`dynamics = phrase`).

The corpus the network learnt from has no dynamics (music21 scores carry no velocities: every
training note is 80), so the network itself can only carry the primer's last velocity forward
(`dynamics = model`): one flat level, whatever the primer did. This module reads the primer's
dynamics instead, as a small regression fitted on its notes:

    velocity = level + slope * t + accent[metric position] + height * (pitch - mean pitch)
               + contour(position in the phrase)

- level and slope: where the primer's dynamics are at its end and where they were heading; the
  slope is followed for at most one phrase length (a crescendo does not go on for ever);
- accent: how much louder the primer plays downbeats, other beats and off-beats;
- height: how much louder its higher notes are (phrases swell towards their peaks);
- contour: what is left, as a smoothed curve over the primer's phrase (its length in whole
  bars), repeated over the continuation's phrases.

Each term is shrunk towards zero (ridge), so a short or flat primer gives a flat answer at its
level, and every velocity stays within the primer's range widened by a few steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Metric classes: downbeat, other beats, the half beat, anything finer.
DOWNBEAT, BEAT, HALF, OTHER = range(4)
ON_GRID = 0.06  # beats: how close to a grid point an onset counts as on it
RIDGE = 4.0  # shrinkage, in notes' worth of evidence, for every term but the level
CONTOUR_BINS = 8  # points per phrase on the contour curve
RANGE_MARGIN = 6  # velocities may leave the primer's range by this much


def metric_class(beat: float, beats_per_bar: float) -> int:
    """The metric position of an onset at `beat` (bar lines at multiples of beats_per_bar)."""
    in_bar = beat % beats_per_bar
    if min(in_bar, beats_per_bar - in_bar) < ON_GRID:
        return DOWNBEAT
    offset = in_bar - round(in_bar)
    if abs(offset) < ON_GRID:
        return BEAT
    if abs(abs(offset) - 0.5) < ON_GRID:
        return HALF
    return OTHER


@dataclass(frozen=True)
class PhraseDynamics:
    """The primer's dynamics, fitted; `velocity` gives one for a note of the continuation."""

    level: float  # at the primer's end (the level term plus the slope at the end)
    slope: float  # velocity per beat
    accents: tuple[float, float, float, float]
    height: float  # velocity per semitone
    mean_pitch: float
    end_beat: float  # where the primer ends (absolute beats)
    phrase_beats: float  # the primer's phrase length: its span rounded to whole bars
    phrase_start: float
    contour: tuple[float, ...]
    beats_per_bar: float
    low: int
    high: int

    def velocity(self, pitch: int, beat: float) -> int:
        """Velocity of a continuation note with its onset at `beat` (absolute, same time base
        as the primer's notes)."""
        since_end = max(0.0, beat - self.end_beat)
        trend = self.slope * min(since_end, self.phrase_beats)
        value = (
            self.level
            + trend
            + self.accents[metric_class(beat, self.beats_per_bar)]
            + self.height * (pitch - self.mean_pitch)
            + _contour_at(self.contour, (beat - self.phrase_start) / self.phrase_beats)
        )
        return int(min(self.high, max(self.low, round(value))))


def _contour_at(contour: Sequence[float], position: float) -> float:
    """Linear interpolation on a periodic curve sampled at bin centres."""
    bins = len(contour)
    x = (position % 1.0) * bins - 0.5
    left = math.floor(x)
    frac = x - left
    return (1 - frac) * contour[left % bins] + frac * contour[(left + 1) % bins]


def fit(
    pitches: Sequence[int],
    velocities: Sequence[int],
    starts: Sequence[float],
    beats_per_bar: float,
    end_beat: float | None = None,
) -> PhraseDynamics:
    """Fit the primer's dynamics: its notes' pitches, velocities and onsets in beats."""
    if not pitches:
        raise ValueError("no primer notes to read dynamics from")
    pitch = np.asarray(pitches, dtype=float)
    velocity = np.asarray(velocities, dtype=float)
    start = np.asarray(starts, dtype=float)
    end = float(end_beat if end_beat is not None else start.max())
    mean_pitch = float(pitch.mean())
    classes = np.array([metric_class(b, beats_per_bar) for b in start])
    # Design: level, time (beats from the primer's end), one column per metric class (all
    # four, shrunk, so that no class is the unpenalised reference), pitch.
    time = start - end
    columns = [np.ones_like(start), time]
    columns += [(classes == c).astype(float) for c in range(4)]
    columns.append(pitch - mean_pitch)
    design = np.stack(columns, axis=1)
    # Scale-free shrinkage: each term's penalty is RIDGE notes' worth of its own variance.
    # (A column of zeros, a metric class the primer never plays, gets a coefficient of 0.)
    scales = np.maximum((design**2).mean(axis=0), 1e-3)
    penalty = RIDGE * scales
    penalty[0] = 0.0  # the level is never shrunk
    coef = np.linalg.solve(design.T @ design + np.diag(penalty), design.T @ velocity)
    level, slope = float(coef[0]), float(coef[1])
    accents = coef[2:6]
    # Accents are relative: the mean accent (over the primer's notes) belongs to the level.
    weights = np.array([(classes == c).mean() for c in range(4)])
    shift = float(accents @ weights)
    accents = accents - shift
    level += shift
    height = float(coef[6])
    # Phrase contour: what the regression leaves, smoothed into bins over the phrase.
    first = float(start.min())
    bars = max(1, round((end - first) / beats_per_bar))
    phrase_beats = bars * beats_per_bar
    phrase_start = math.floor(first / beats_per_bar + 1e-6) * beats_per_bar
    residual = velocity - design @ coef
    position = ((start - phrase_start) / phrase_beats) % 1.0
    bins = np.minimum(CONTOUR_BINS - 1, (position * CONTOUR_BINS).astype(int))
    contour = []
    for b in range(CONTOUR_BINS):
        mask = bins == b
        # Shrunk mean: a bin with few notes says little.
        contour.append(float(residual[mask].sum() / (mask.sum() + RIDGE)) if mask.any() else 0.0)
    low = int(max(1, velocity.min() - RANGE_MARGIN))
    high = int(min(127, velocity.max() + RANGE_MARGIN))
    return PhraseDynamics(
        level=level,
        slope=slope,
        accents=(float(accents[0]), float(accents[1]), float(accents[2]), float(accents[3])),
        height=height,
        mean_pitch=mean_pitch,
        end_beat=end,
        phrase_beats=phrase_beats,
        phrase_start=phrase_start,
        contour=tuple(contour),
        beats_per_bar=beats_per_bar,
        low=low,
        high=high,
    )
