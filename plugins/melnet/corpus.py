"""Note material for training pairs: music21 corpus pieces and generated figures.

A `Piece` is a set of voices in beats (quarter notes); the data builder picks voices, an
instrument and a tempo for each render. Piece ids decide the train/test split, so every render
of a test piece stays in the test set.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

Voice = list[tuple[int, int, float, float]]  # (pitch, velocity, start_beat, duration_beat)


@dataclass(frozen=True)
class Piece:
    piece_id: str
    voices: tuple[Voice, ...]  # highest voice first

    @property
    def split(self) -> str:
        """A fixed split of pieces: one in ten (by a hash of the id) is test material."""
        return "test" if zlib.crc32(self.piece_id.encode()) % 10 == 0 else "train"


def _voices_from_score(score: object, rng: random.Random) -> tuple[Voice, ...]:
    voices = []
    for part in score.parts:  # type: ignore[attr-defined]
        voice: Voice = []
        base = rng.randint(70, 100)
        for element in part.flatten().notes:
            duration = float(element.quarterLength)
            if duration <= 0:
                continue
            for pitch in element.pitches:
                velocity = max(30, min(127, base + rng.randint(-12, 12)))
                voice.append((int(pitch.midi), velocity, float(element.offset), duration))
        if voice:
            voices.append(voice)
    voices.sort(key=lambda v: -sum(n[0] for n in v) / len(v))
    return tuple(voices)


def music21_pieces(composers: dict[str, int], seed: int = 0) -> Iterator[Piece]:
    """Parse up to `limit` pieces per music21 corpus collection (e.g. bach, ryansMammoth)."""
    from music21 import corpus

    rng = random.Random(seed)
    for composer, limit in composers.items():
        paths = sorted(corpus.getComposer(composer))
        rng.shuffle(paths)
        taken = 0
        for path in paths:
            if taken >= limit:
                break
            try:
                score = corpus.parse(path)
            except Exception:  # noqa: BLE001 - a corpus file music21 cannot parse is skipped
                continue
            if not hasattr(score, "parts"):
                continue
            voices = _voices_from_score(score, rng)
            if voices:
                taken += 1
                yield Piece(f"{composer}/{path.stem}", voices)


_SCALES = ((0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10), (0, 2, 4, 7, 9))


def generated_piece(index: int) -> Piece:
    """A random figure: melody, arpeggios, block chords or repeated notes, with varied
    rhythms and dynamics (covers staccato, long notes and wide jumps the corpus lacks)."""
    rng = random.Random(1000 + index)
    kind = ("melody", "arpeggio", "chords", "repeated")[index % 4]
    scale = _SCALES[rng.randrange(len(_SCALES))]
    root = rng.randint(48, 64)
    pitches = [root + octave * 12 + step for octave in range(-1, 3) for step in scale]
    voices: list[Voice] = []
    beat = 0.0
    lead: Voice = []
    position = len(pitches) // 2
    while beat < 24.0:
        length = rng.choice((0.25, 0.5, 0.5, 1.0, 1.0, 1.5, 2.0, 3.0))
        gate = rng.choice((0.3, 0.6, 0.9, 1.0))
        velocity = rng.randint(35, 120)
        if kind == "chords":
            chord_root = rng.randrange(len(pitches) - 5)
            for offset in (0, 2, 4):
                lead.append((pitches[chord_root + offset], velocity, beat, length * gate))
        elif kind == "arpeggio":
            chord_root = rng.randrange(len(pitches) - 5)
            for i, offset in enumerate((0, 2, 4, 2)):
                lead.append(
                    (
                        pitches[chord_root + offset],
                        velocity,
                        beat + i * length / 4,
                        length / 4 * gate,
                    )
                )
        elif kind == "repeated":
            pitch = rng.choice(pitches)
            for i in range(4):
                lead.append(
                    (pitch, max(30, velocity - 10 * i), beat + i * length / 4, length / 4 * gate)
                )
        else:
            position = max(0, min(len(pitches) - 1, position + rng.randint(-4, 4)))
            lead.append((pitches[position], velocity, beat, length * gate))
        beat += length
        if rng.random() < 0.1:
            beat += rng.choice((0.5, 1.0, 2.0))  # rests: the model must learn silence too
    voices.append(lead)
    return Piece(f"generated/{kind}-{index}", tuple(voices))
