"""The timing plan: where each phoneme lands on the output timeline, in 10 ms frames.

Consonants keep their spoken length (squeezed when a note is short); the vowel absorbs the
rest of the syllable's span, as singers hold vowels. The plan also maps every output frame
back to a frame of the spoken teacher audio, which is how both training targets (WORLD
resynthesis) and inference-time voicing and natural pitch are derived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from plugins.vocal_tts.audio import HOP
from plugins.vocal_tts.espeak import Phone
from plugins.vocal_tts.phonemes import SILENCE, Syllable, is_pause, is_vowel

CONSONANT_SHARE = 0.6  # consonants may take at most this share of a syllable's span


@dataclass
class Plan:
    symbols: list[str]  # phoneme per segment, SILENCE for gaps
    durations: np.ndarray  # int frames per segment, sums to frames
    source: np.ndarray  # float source frame per output frame; -1 in silence
    vowel: np.ndarray  # bool per output frame: inside a vowel

    @property
    def frames(self) -> int:
        return int(self.durations.sum())


def _source_span(phone: Phone) -> tuple[float, float]:
    return phone.start / HOP, phone.end / HOP


def _stretch(out_len: int, start: float, end: float) -> np.ndarray:
    step = (end - start) / max(out_len, 1)
    return start + (np.arange(out_len) + 0.5) * step - 0.5


class _Builder:
    def __init__(self) -> None:
        self.symbols: list[str] = []
        self.durations: list[int] = []
        self.source: list[np.ndarray] = []
        self.vowel: list[np.ndarray] = []

    def add(self, symbol: str, frames: int, source: np.ndarray | None) -> None:
        if frames <= 0:
            return
        silent = source is None
        if silent and self.symbols and self.symbols[-1] == SILENCE:
            self.durations[-1] += frames
        else:
            self.symbols.append(SILENCE if silent else symbol)
            self.durations.append(frames)
        self.source.append(np.full(frames, -1.0) if source is None else source)
        self.vowel.append(np.full(frames, (not silent) and is_vowel(symbol)))

    def build(self) -> Plan:
        return Plan(
            self.symbols,
            np.asarray(self.durations, dtype=np.int64),
            np.concatenate(self.source) if self.source else np.zeros(0),
            np.concatenate(self.vowel) if self.vowel else np.zeros(0, dtype=bool),
        )


def spoken_plan(phones: Sequence[Phone], total_samples: int) -> Plan:
    """The teacher's own timing: every phone where espeak-ng put it, pauses as silence."""
    builder = _Builder()
    cursor = 0
    end_frame = total_samples // HOP
    for phone in phones:
        # Rounding may pull a phone's start before the previous phone's end: start at the cursor.
        start = min(max(round(phone.start / HOP), cursor), end_frame)
        end = min(round(phone.end / HOP), end_frame)
        builder.add(SILENCE, start - cursor, None)
        if end > start:
            if is_pause(phone.symbol):
                builder.add(SILENCE, end - start, None)
            else:
                builder.add(phone.symbol, end - start, _stretch(end - start, *_source_span(phone)))
        cursor = max(cursor, end)
    builder.add(SILENCE, end_frame - cursor, None)
    return builder.build()


def syllable_lengths(phones: Sequence[Phone], syllable: Syllable, span: int) -> list[int]:
    """Frames per phone of `syllable` when it must fill `span` frames."""
    spoken = np.array([(phones[i].end - phones[i].start) / HOP for i in syllable.phones])
    consonant = np.array([i != syllable.nucleus for i in syllable.phones])
    wanted = np.where(consonant, spoken, 0.0)
    budget = CONSONANT_SHARE * span
    if wanted.sum() > budget:
        wanted *= budget / wanted.sum()
    wanted[~consonant] = span - wanted.sum()
    edges = np.round(np.concatenate([[0.0], np.cumsum(wanted)])).astype(np.int64)
    edges[-1] = span
    return list(np.diff(edges))


def audible_spans(spans: Sequence[tuple[int, int]], frames: int) -> list[tuple[int, int] | None]:
    """The frames each syllable really gets: not before the previous one ends, not past
    `frames`; None for a syllable left with no frame at all (it would not be heard)."""
    out: list[tuple[int, int] | None] = []
    cursor = 0
    for start, end in spans:
        start, end = max(start, cursor), min(end, frames)
        out.append((start, end) if end > start else None)
        cursor = max(cursor, end)
    return out


def placed_plan(
    phones: Sequence[Phone],
    syllables: Sequence[Syllable],
    spans: Sequence[tuple[int, int]],
    frames: int,
) -> Plan:
    """Syllable k fills output frames spans[k] = (start, end); the rest is silence. Spans must
    be sorted and not overlap; anything past `frames` is cut off."""
    builder = _Builder()
    cursor = 0
    for syllable, span in zip(syllables, audible_spans(spans, frames), strict=True):
        if span is None:
            continue
        start, end = span
        builder.add(SILENCE, start - cursor, None)
        for index, length in zip(
            syllable.phones, syllable_lengths(phones, syllable, end - start), strict=True
        ):
            phone = phones[index]
            builder.add(phone.symbol, int(length), _stretch(int(length), *_source_span(phone)))
        cursor = end
    builder.add(SILENCE, frames - cursor, None)
    return builder.build()


def gather(values: np.ndarray, source: np.ndarray, fill: float | np.ndarray) -> np.ndarray:
    """values[source] with linear interpolation between source frames; `fill` where silent."""
    last = len(values) - 1
    position = np.clip(source, 0, last)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, last)
    weight = (position - low).reshape(-1, *([1] * (values.ndim - 1)))
    out = values[low] * (1 - weight) + values[high] * weight
    silent = source < 0
    out[silent] = fill
    return out


def nearest(values: np.ndarray, source: np.ndarray) -> np.ndarray:
    index = np.clip(np.round(source), 0, len(values) - 1).astype(np.int64)
    return values[index]
