"""What the training clips play: windows of music21 corpus pieces (Bach chorales, Palestrina,
Irish and Essen folk tunes) and generated melodies and accompaniments, each given a tempo, a
transposition that suits its instrument, and per-note velocities.

Everything is in beats and comes from one `numpy.random.Generator`, so a (source, seed) pair
always gives the same clip. `synth.py` in the separation plugin renders it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from plugins.separation.arrangement import Event

# General MIDI programs (0-based) with the MIDI pitch their lines are centred on.
MONO_PROGRAMS: dict[int, int] = {
    0: 64,
    4: 64,
    11: 72,
    19: 64,
    24: 60,
    25: 60,
    32: 40,
    33: 40,
    40: 72,
    41: 64,
    42: 52,
    52: 64,
    53: 64,
    56: 70,
    57: 55,
    60: 60,
    64: 62,
    65: 68,
    66: 62,
    68: 74,
    70: 52,
    71: 68,
    73: 79,
    74: 76,
    80: 70,
    81: 64,
    85: 64,
}  # pianos, vibes, organ, guitars, basses, strings, voices, brass, reeds, flutes, leads
POLY_PROGRAMS: dict[int, int] = {
    0: 60,
    1: 60,
    2: 60,
    4: 60,
    5: 60,
    6: 62,
    16: 60,
    19: 58,
    24: 57,
    25: 57,
    26: 57,
    27: 57,
    46: 60,
    48: 60,
    52: 60,
    88: 60,
}  # pianos, harpsichord, organs, guitars, harp, strings, choir, pad
SCALES = ((0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10), (0, 2, 3, 5, 7, 9, 10), (0, 2, 4, 7, 9))
DURATIONS = np.array([0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0])
DURATION_WEIGHTS = np.array([0.12, 0.3, 0.08, 0.25, 0.1, 0.1, 0.05])


@dataclass(frozen=True)
class Clip:
    """One thing to render: notes in beats on one GM program at one tempo."""

    name: str
    kind: str  # "mono" or "poly"
    program: int
    tempo: float
    events: list[Event]

    @property
    def beats(self) -> float:
        return max(e.start + e.duration for e in self.events)

    @property
    def seconds(self) -> float:
        return self.beats * 60.0 / self.tempo

    def notes_seconds(self) -> np.ndarray:
        """Rows (pitch, velocity, onset_s, offset_s), the labels."""
        k = 60.0 / self.tempo
        rows = [(e.pitch, e.velocity, e.start * k, (e.start + e.duration) * k) for e in self.events]
        return np.array(sorted(rows, key=lambda r: (r[2], r[0])), np.float32).reshape(-1, 4)


def corpus_pieces(
    collections: dict[str, int], seconds_budget: float
) -> list[tuple[str, np.ndarray, bool]]:
    """(piece id, notes (N,4) pitch/velocity/start/duration in beats, monophonic?) for up to
    the given number of files per music21 collection, stopping after `seconds_budget` of
    parsing (music21 is slow: ~0.5 s a chorale on a busy core)."""
    from music21 import corpus

    from plugins.music_transformer.corpus import parse_file

    paths: dict[str, list] = {}
    for path in corpus.getCorePaths():
        parts = path.parts
        collection = parts[parts.index("corpus") + 1]
        if collection in collections and path.suffix in (".mxl", ".xml", ".krn", ".abc"):
            paths.setdefault(collection, []).append(path)
    deadline = time.monotonic() + seconds_budget
    pieces: list[tuple[str, np.ndarray, bool]] = []
    # Interleave collections so a short budget still covers each of them.
    queues = {c: sorted(paths.get(c, []))[: collections[c]] for c in collections}
    while any(queues.values()) and time.monotonic() < deadline:
        for collection, queue in queues.items():
            if not queue:
                continue
            path = queue.pop(0)
            for piece in parse_file((collection, path)):
                notes = piece.notes
                pieces.append((piece.piece_id, notes, _monophonic(notes)))
    return pieces


def _monophonic(notes: np.ndarray) -> bool:
    ends = notes[:, 2] + notes[:, 3]
    return bool(np.all(notes[1:, 2] >= ends[:-1] - 1e-3))


def piece_split(piece_id: str) -> str:
    """The music-transformer corpus's own split by piece hash (train / valid / test)."""
    import hashlib

    bucket = int(hashlib.sha1(piece_id.encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 90 else ("valid" if bucket < 95 else "test")


def _velocities(count: int, rng: np.random.Generator) -> np.ndarray:
    base = rng.uniform(45, 110)
    return np.clip(base + rng.normal(0, 12, count), 20, 127).astype(int)


def _transpose(pitches: np.ndarray, centre: int, rng: np.random.Generator) -> int:
    median = float(np.median(pitches))
    shift = 12 * round((centre - median) / 12) + int(rng.integers(-5, 6))
    while pitches.min() + shift < 21:
        shift += 12
    while pitches.max() + shift > 108:
        shift -= 12
    return shift


def corpus_clip(
    name: str,
    notes: np.ndarray,
    mono: bool,
    seconds: float,
    rng: np.random.Generator,
    melody_only: bool = False,
) -> Clip | None:
    """A window of about `seconds` of a piece, or of its top line when `melody_only`."""
    if melody_only and not mono:
        notes = _top_line(notes)
        mono = True
    programs = MONO_PROGRAMS if mono else POLY_PROGRAMS
    program = int(rng.choice(list(programs)))
    tempo = float(rng.uniform(60, 160))
    beats = seconds * tempo / 60.0
    starts = np.unique(notes[:, 2])
    start = float(rng.choice(starts[starts <= max(starts[0], notes[:, 2].max() - beats / 2)]))
    window = notes[(notes[:, 2] >= start) & (notes[:, 2] < start + beats)]
    if len(window) < 4:
        return None
    shift = _transpose(window[:, 0], programs[program], rng)
    velocities = _velocities(len(window), rng)
    events = [
        Event(float(s - start), float(min(d, start + beats - s)), int(p) + shift, int(v))
        for (p, _, s, d), v in zip(window, velocities, strict=True)
        if d > 0
    ]
    return Clip(name, "mono" if mono else "poly", program, tempo, _dedupe(events))


def _top_line(notes: np.ndarray) -> np.ndarray:
    """The highest note at each start, cut where the next one begins."""
    rows = []
    for start in np.unique(notes[:, 2]):
        at = notes[notes[:, 2] == start]
        rows.append(at[np.argmax(at[:, 0])].copy())
    line = np.array(rows)
    line[:-1, 3] = np.minimum(line[:-1, 3], np.diff(line[:, 2]))
    return line


def _dedupe(events: list[Event]) -> list[Event]:
    """A pitch struck again while it sounds ends the sounding note (MIDI can't overlap one
    key with itself), so the labels match what FluidSynth plays."""
    events = sorted(events, key=lambda e: (e.pitch, e.start))
    out: list[Event] = []
    for e in events:
        if out and out[-1].pitch == e.pitch and out[-1].start + out[-1].duration > e.start:
            prev = out.pop()
            if e.start - prev.start > 1e-3:
                out.append(Event(prev.start, e.start - prev.start, prev.pitch, prev.velocity))
        out.append(e)
    return sorted(out, key=lambda e: (e.start, e.pitch))


def generated_melody(name: str, seconds: float, rng: np.random.Generator) -> Clip:
    """A random-walk melody in a scale with varied rhythms, rests and legato or staccato."""
    program = int(rng.choice(list(MONO_PROGRAMS)))
    tempo = float(rng.uniform(60, 170))
    beats = seconds * tempo / 60.0
    scale = SCALES[int(rng.integers(len(SCALES)))]
    root = MONO_PROGRAMS[program] - 6 + int(rng.integers(0, 12))
    degree = 0
    articulation = float(rng.uniform(0.5, 1.0))
    t = 0.0
    events = []
    while t < beats:
        duration = float(rng.choice(DURATIONS, p=DURATION_WEIGHTS / DURATION_WEIGHTS.sum()))
        if rng.random() < 0.12:  # rest
            t += duration
            continue
        degree += int(rng.choice([-3, -2, -1, -1, 0, 1, 1, 2, 3, 4, -4]))
        degree = int(np.clip(degree, -9, 12))
        octave, step = divmod(degree, len(scale))
        pitch = int(np.clip(root + 12 * octave + scale[step], 21, 108))
        length = max(0.1, duration * articulation * rng.uniform(0.85, 1.0))
        events.append(Event(t, length, pitch, 0))
        t += duration
    velocities = _velocities(len(events), rng)
    events = [
        Event(e.start, e.duration, e.pitch, int(v)) for e, v in zip(events, velocities, strict=True)
    ]
    return Clip(name, "mono", program, tempo, events)


def generated_accompaniment(name: str, seconds: float, rng: np.random.Generator) -> Clip:
    """Chords in a key as block chords, arpeggios or a bass-and-chord pattern, maybe with a
    melody on top: piano and guitar textures."""
    program = int(rng.choice(list(POLY_PROGRAMS)))
    tempo = float(rng.uniform(60, 160))
    beats = seconds * tempo / 60.0
    key = POLY_PROGRAMS[program] - 12 + int(rng.integers(0, 12))
    scale = SCALES[int(rng.integers(2))]
    style = str(rng.choice(["block", "arpeggio", "alberti", "strum"]))
    chord_beats = float(rng.choice([1.0, 2.0, 4.0]))
    events: list[Event] = []
    t = 0.0
    while t < beats:
        degree = int(rng.integers(0, 7))
        chord = [key + 12 * ((degree + i) // 7) + scale[(degree + i) % 7] for i in (0, 2, 4)]
        if rng.random() < 0.3:
            chord.append(chord[0] + 12)
        if style == "block":
            for p in chord:
                events.append(Event(t, chord_beats * 0.95, p, 0))
        elif style == "strum":
            for i, p in enumerate(chord):
                events.append(Event(t + 0.03 * i, chord_beats * 0.9 - 0.03 * i, p, 0))
        else:
            step = float(rng.choice([0.25, 0.5]))
            order = chord if style == "arpeggio" else [chord[0], chord[2], chord[1], chord[2]]
            n = int(chord_beats / step)
            hold = float(rng.uniform(0.5, 1.0))
            for i in range(n):
                events.append(Event(t + i * step, step * hold, order[i % len(order)], 0))
        events.append(Event(t, chord_beats * 0.95, chord[0] - 12, 0))  # bass note
        t += chord_beats
    if rng.random() < 0.5:
        melody = generated_melody(name, seconds, rng)
        shift = 12 * round((key + 14 - np.median([e.pitch for e in melody.events])) / 12)
        scale_beats = tempo / melody.tempo  # the melody's beats at this clip's tempo
        events += [
            Event(e.start * scale_beats, e.duration * scale_beats, e.pitch + shift, 0)
            for e in melody.events
            if e.start * scale_beats < beats
        ]
    events = [e for e in events if 21 <= e.pitch <= 108 and e.start < beats]
    velocities = _velocities(len(events), rng)
    events = [
        Event(e.start, e.duration, e.pitch, int(v)) for e, v in zip(events, velocities, strict=True)
    ]
    return Clip(name, "poly", program, tempo, _dedupe(events))
