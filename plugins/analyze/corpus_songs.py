"""Test songs of another style than the generated ones: music21 corpus scores (Bach chorales in
four voices, and Irish fiddle tunes from Ryan's Mammoth Collection played as a solo line) in
3/4, 4/4 or 6/8, as `BeatSong`s the test builder renders like any other.

Why these: the generated songs are one arranger's idea of a song (a chord a bar, a bass on
the beats, comping, downbeat accents). A chorale moves in even quarter notes with no accents
and a chord on every beat; a jig is one unaccompanied line in running eighths. Their beats
and bars are still exact: the score's own time signature and bar lines, played at a steady
tempo. Pieces whose time signature changes, or is not one of the three the tracker names, are
left out, as are those with a short bar inside (before a repeat sign: the bar lines move off
a steady grid there); a pickup bar is cut so the song starts on a downbeat, as the generated
ones do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from plugins.analyze.songs import METERS, BeatSong
from plugins.separation.arrangement import Event, Part, Song

# (corpus collection, style name, General MIDI programs to pick from for each voice)
COLLECTIONS = (
    ("bach", "chorale", (0, 19, 48, 52, 61, 68)),  # piano, organ, strings, choir, brass, oboe
    ("ryansMammoth", "fiddle tune", (40, 73, 21, 0, 105, 109)),  # fiddle, flute, accordion...
)
MIN_SECONDS = 20.0


def corpus_paths(collection: str) -> list[Path]:
    from music21 import corpus

    return sorted(
        p for p in corpus.getCorePaths() if collection in Path(p).parts and Path(p).is_file()
    )


def single_meter(score: Any) -> str | None:
    """The score's time signature if it has one, never changes and is one the tracker names."""
    names = {ts.ratioString for ts in score.recurse().getElementsByClass("TimeSignature")}
    if len(names) != 1:
        return None
    name = names.pop()
    return name if name in METERS else None


def first_downbeat(score: Any, bar_quarters: float) -> float | None:
    """The offset (quarter notes) of the first full bar (after the pickup, if there is one),
    or None when a later bar but the last is not full: a short bar before a repeat sign
    shifts the bar lines off a steady grid, and the labels would be wrong after it."""
    measures = list(score.parts[0].getElementsByClass("Measure"))
    full = [abs(float(m.duration.quarterLength) - bar_quarters) < 1e-6 for m in measures]
    if True not in full:
        return None
    first = full.index(True)
    if not all(full[first:-1]):
        return None
    return float(measures[first].offset)


def score_events(score: Any, start: float) -> list[list[tuple[float, float, int]]]:
    """Each part's notes as (start, duration, pitch) in quarter notes from `start`, ties
    joined, notes before `start` (the pickup) left out."""
    voices = []
    for part in score.parts:
        notes = []
        for element in part.stripTies().flatten().notes:
            onset = float(element.offset) - start
            if onset < -1e-6:
                continue
            length = float(element.duration.quarterLength)
            for pitch in element.pitches:
                notes.append((onset, length, int(pitch.midi)))
        if notes:
            voices.append(notes)
    return voices


def beat_song(
    name: str, score: Any, programs: tuple[int, ...], beat_tempo: float, rng: np.random.Generator
) -> BeatSong | None:
    """The score as a BeatSong at `beat_tempo` felt beats a minute, or None if it has no usable
    meter or lasts under MIN_SECONDS at that tempo."""
    meter_name = single_meter(score)
    if meter_name is None:
        return None
    meter = METERS[meter_name]
    start = first_downbeat(score, meter.bar_quarters)
    if start is None:
        return None
    voices = score_events(score, start)
    if not voices:
        return None
    end = max(onset + length for notes in voices for onset, length, _ in notes)
    bars = int(np.floor(end / meter.bar_quarters + 1e-6))
    quarter_tempo = beat_tempo * meter.beat_quarters
    if bars * meter.bar_quarters * 60.0 / quarter_tempo < MIN_SECONDS:
        return None
    song = Song(name, quarter_tempo, bars * meter.bar_quarters)
    stems = ("vocals", "other", "other", "bass")  # soprano, alto, tenor, bass
    for index, notes in enumerate(voices):
        program = int(rng.choice(programs))
        # Scores carry no dynamics: every note near one level, no downbeat accents.
        events = [
            Event(onset, length * 0.95, pitch, int(rng.integers(72, 88)))
            for onset, length, pitch in notes
        ]
        stem = stems[min(index, len(stems) - 1)] if len(voices) > 1 else "vocals"
        song.parts.append(Part(stem, program, events, reverb=int(rng.integers(10, 60))))
    return BeatSong(song, meter, beat_tempo, drums=False)


def corpus_songs(
    count: int, seed: int, min_tempo: float = 70.0, max_tempo: float = 150.0
) -> Iterator[tuple[str, BeatSong]]:
    """Up to `count` songs, taken in turn from each collection (so both styles are in), each
    at a random steady tempo; (style, song). Files are visited in a fixed shuffled order."""
    from music21 import corpus

    rng = np.random.default_rng(seed)
    queues = []
    for collection, style, programs in COLLECTIONS:
        found = corpus_paths(collection)
        order = rng.permutation(len(found))
        queues.append((style, programs, iter([found[i] for i in order])))
    made = 0
    while made < count and queues:
        for entry in list(queues):
            if made >= count:
                break
            style, programs, paths = entry
            song = None
            for path in paths:
                score = corpus.parse(str(path))
                tempo = float(rng.uniform(min_tempo, max_tempo))
                name = f"{style.replace(' ', '_')}-{Path(path).stem}"
                song = beat_song(name, score, programs, tempo, rng)
                if song is not None:
                    break
            if song is None:  # this collection has no more usable pieces
                queues.remove(entry)
                continue
            made += 1
            yield style, song
