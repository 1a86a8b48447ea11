"""Pitch contours on the output timeline: sung (from notes) or natural (from the teacher).

Sung pitch glides into each note over a few frames (portamento) and may carry vibrato;
voicing comes from the teacher's voicing plus every vowel frame, so voiced consonants stay
voiced and unvoiced ones stay noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyworld

from plugins.vocal_tts.audio import FRAME_PERIOD_MS, SAMPLE_RATE
from plugins.vocal_tts.plan import Plan, nearest

F0_FLOOR, F0_CEIL = 60.0, 800.0
GLIDE_FRAMES = 5  # ~50 ms portamento between notes


def midi_to_hz(pitch: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - 69.0) / 12.0)


def hz_to_midi(hz: np.ndarray) -> np.ndarray:
    return 69.0 + 12.0 * np.log2(np.maximum(hz, 1e-6) / 440.0)


def analyse_f0(audio: np.ndarray, frames: int) -> np.ndarray:
    """WORLD DIO + StoneMask f0 (Hz, 0 where unvoiced), `frames` long."""
    x = audio.astype(np.float64)
    f0, times = pyworld.dio(
        x, SAMPLE_RATE, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_PERIOD_MS
    )
    f0 = pyworld.stonemask(x, f0, times, SAMPLE_RATE)
    return _fit(f0, frames)


def _fit(values: np.ndarray, frames: int) -> np.ndarray:
    if len(values) >= frames:
        return values[:frames]
    return np.concatenate([values, np.zeros(frames - len(values), dtype=values.dtype)])


def voicing(plan: Plan, source_f0: np.ndarray) -> np.ndarray:
    """Voiced where the teacher was voiced at the mapped frame, and in every vowel."""
    voiced = nearest(source_f0 > 0, plan.source) & (plan.source >= 0)
    return voiced | plan.vowel


def sung_f0(
    plan: Plan,
    voiced: np.ndarray,
    note_pitches: Sequence[float],
    note_spans: Sequence[tuple[int, int]],
    vibrato_cents: float = 0.0,
    vibrato_hz: float = 5.5,
) -> np.ndarray:
    """Hz per output frame following the notes; 0 where unvoiced."""
    frames = plan.frames
    midi = np.full(frames, np.nan)
    for pitch, (start, end) in zip(note_pitches, note_spans, strict=True):
        midi[max(start, 0) : min(end, frames)] = pitch
    midi = _fill_gaps(midi, fallback=60.0)
    if GLIDE_FRAMES > 1:  # portamento: smooth the step curve, then keep each note's centre exact
        kernel = np.hanning(GLIDE_FRAMES + 2)[1:-1]
        smooth = np.convolve(
            np.pad(midi, GLIDE_FRAMES, mode="edge"), kernel / kernel.sum(), mode="same"
        )[GLIDE_FRAMES:-GLIDE_FRAMES]
        midi = smooth
    if vibrato_cents > 0:
        for start, end in note_spans:  # vibrato grows in after 150 ms of a note
            length = min(end, frames) - max(start, 0)
            if length <= 0:
                continue
            t = np.arange(length) * FRAME_PERIOD_MS / 1000.0
            depth = vibrato_cents / 100.0 * np.clip((t - 0.15) / 0.2, 0.0, 1.0)
            midi[max(start, 0) : max(start, 0) + length] += depth * np.sin(
                2 * np.pi * vibrato_hz * t
            )
    return np.where(voiced, midi_to_hz(midi), 0.0)


def natural_f0(
    plan: Plan, source_f0: np.ndarray, voiced: np.ndarray, shift_semitones: float = 0.0
) -> np.ndarray:
    """The teacher's own intonation carried through the plan (gaps interpolated in log f0)."""
    log_f0 = np.where(source_f0 > 0, np.log(np.maximum(source_f0, 1e-6)), np.nan)
    log_f0 = _fill_gaps(log_f0, fallback=float(np.log(120.0)))
    mapped = np.interp(np.clip(plan.source, 0, len(log_f0) - 1), np.arange(len(log_f0)), log_f0)
    hz = np.exp(mapped) * 2.0 ** (shift_semitones / 12.0)
    return np.where(voiced, hz, 0.0)


def _fill_gaps(values: np.ndarray, fallback: float) -> np.ndarray:
    """Linear interpolation over NaN gaps (held flat at the ends)."""
    known = ~np.isnan(values)
    if not known.any():
        return np.full_like(values, fallback)
    index = np.arange(len(values))
    return np.interp(index, index[known], values[known])
