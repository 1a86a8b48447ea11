"""Turns a four-part chorale into a four-stem song: sung melody, bass line, generated drums and
accompaniment, with random tempo, key, instruments, playing styles and mix settings.

Everything is in beats; `synth.py` turns a `Song` into audio. Randomness comes from one
`numpy.random.Generator`, so a (piece, seed) pair always gives the same song.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from plugins.separation.stems import STEMS


@dataclass(frozen=True)
class Event:
    """A note in beats (quarter notes)."""

    start: float
    duration: float
    pitch: int
    velocity: int


@dataclass
class Part:
    """One instrument of one stem: what it plays and how it is set up in the synth."""

    stem: str
    program: int
    events: list[Event]
    drums: bool = False
    reverb: int = 40  # CC 91 send, 0..127
    vibrato_cents: float = 0.0  # pitch-bend vibrato depth, for sung lines
    vibrato_hz: float = 5.5


@dataclass
class Song:
    name: str
    tempo: float
    beats: float  # length in beats
    parts: list[Part] = field(default_factory=list)
    gains_db: dict[str, float] = field(default_factory=dict)  # per-stem mix gain

    @property
    def seconds(self) -> float:
        return self.beats * 60.0 / self.tempo


# General MIDI programs (0-based) chosen per stem.
VOICE_PROGRAMS = (52, 53, 54, 85)  # choir aahs, voice oohs, synth voice, lead 6 (voice)
BASS_PROGRAMS = (32, 33, 34, 35, 36, 37, 38, 39, 43)  # acoustic..synth basses, contrabass
OTHER_PROGRAMS = (
    0,
    1,
    2,
    4,
    5,
    6,
    7,  # pianos, e-pianos, harpsichord, clavinet
    11,
    12,
    16,
    17,
    19,  # vibraphone, marimba, organs
    24,
    25,
    26,
    27,
    29,  # guitars
    40,
    41,
    42,
    46,
    48,
    49,
    50,  # strings, harp, ensembles
    56,
    57,
    60,
    61,
    64,
    65,
    68,
    70,
    71,  # brass, reeds
    73,
    74,
    80,
    81,
    88,
    89,
    90,
    91,
    94,  # flutes, synth leads and pads
)
COMP_PROGRAMS = (0, 1, 4, 5, 16, 24, 25, 27, 48, 88, 89)
DRUM_KITS = (0, 8, 16, 24, 25, 32, 40)  # standard, room, power, electronic, 808, jazz, brush

# GM percussion keys
KICK, SNARE, SNARE2, CLAP, HAT, PEDAL_HAT, OPEN_HAT = 36, 38, 40, 39, 42, 44, 46
CRASH, RIDE, LOW_TOM, MID_TOM, HIGH_TOM = 49, 51, 45, 47, 50


def chorale_voices(path: Path) -> tuple[list[list[Event]], float]:
    """Soprano, alto, tenor and bass of a chorale (ties merged) and the beats per bar.
    Raises ValueError for pieces that are not four monophonic parts."""
    from music21 import corpus, meter

    # From the source file, not music21's pickle cache: the build's workers share that cache,
    # and one of them read a pickle another was still writing (a zlib "truncated stream").
    score = corpus.parse(str(path), forceSource=True).stripTies()
    parts = list(score.parts)
    if len(parts) != 4:
        raise ValueError(f"{path.name}: {len(parts)} parts, not 4")
    voices: list[list[Event]] = []
    for part in parts:
        events = []
        for note in part.flatten().notes:
            if note.isChord:
                raise ValueError(f"{path.name}: chords inside a voice")
            events.append(Event(float(note.offset), float(note.quarterLength), note.pitch.midi, 80))
        if len(events) < 8:
            raise ValueError(f"{path.name}: a voice with {len(events)} notes")
        voices.append(events)
    signatures = list(score.recurse().getElementsByClass(meter.TimeSignature))
    beats_per_bar = float(signatures[0].barDuration.quarterLength) if signatures else 4.0
    return voices, beats_per_bar


def arrange(
    name: str,
    voices: list[list[Event]],
    beats_per_bar: float,
    rng: np.random.Generator,
    max_seconds: float = 24.0,
) -> Song:
    """A random band arrangement of the four voices."""
    soprano, alto, tenor, bass = voices
    tempo = float(rng.uniform(70, 150))
    transpose = int(rng.integers(-5, 7))
    end = max(e.start + e.duration for v in voices for e in v)
    beats = min(end, max_seconds * tempo / 60.0)

    def shifted(events: list[Event], semitones: int, velocity: int) -> list[Event]:
        out = []
        for e in events:
            if e.start >= beats:
                break
            vel = int(np.clip(velocity + rng.integers(-10, 11), 20, 127))
            out.append(Event(e.start, min(e.duration, beats - e.start), e.pitch + semitones, vel))
        return out

    song = Song(name, tempo, beats)
    # vocals: the melody, sometimes an octave down (a lower voice), with vibrato
    octave = -12 if rng.random() < 0.35 else 0
    song.parts.append(
        Part(
            "vocals",
            int(rng.choice(VOICE_PROGRAMS)),
            shifted(soprano, transpose + octave, int(rng.integers(75, 115))),
            reverb=int(rng.integers(10, 90)),
            vibrato_cents=float(rng.uniform(0, 45)),
            vibrato_hz=float(rng.uniform(4.5, 6.5)),
        )
    )
    # bass: the bass voice an octave down, as written, pulsed, or root-fifth
    bass_events = shifted(bass, transpose - 12, int(rng.integers(80, 120)))
    style = rng.choice(["written", "pulse", "root_fifth"])
    song.parts.append(
        Part(
            "bass",
            int(rng.choice(BASS_PROGRAMS)),
            _bass_rhythm(bass_events, str(style), rng),
            reverb=int(rng.integers(0, 40)),
        )
    )
    # other: alto and tenor on two instruments, often a comping instrument as well
    for voice in (alto, tenor):
        song.parts.append(
            Part(
                "other",
                int(rng.choice(OTHER_PROGRAMS)),
                shifted(voice, transpose, int(rng.integers(60, 105))),
                reverb=int(rng.integers(10, 90)),
            )
        )
    if rng.random() < 0.6:
        song.parts.append(
            Part(
                "other",
                int(rng.choice(COMP_PROGRAMS)),
                _comping([shifted(v, transpose, 70) for v in voices], beats, rng),
                reverb=int(rng.integers(10, 90)),
            )
        )
    song.parts.append(
        Part(
            "drums",
            int(rng.choice(DRUM_KITS)),
            drum_pattern(beats, beats_per_bar, rng),
            drums=True,
            reverb=int(rng.integers(0, 60)),
        )
    )
    # Mix: random stem levels, and sometimes a stem is absent so the model learns silence.
    for stem in STEMS:
        song.gains_db[stem] = float(rng.uniform(-9, 3))
    if rng.random() < 0.15:
        song.gains_db[str(rng.choice(["vocals", "drums", "bass"]))] = -np.inf
    return song


def _bass_rhythm(events: list[Event], style: str, rng: np.random.Generator) -> list[Event]:
    if style == "written":
        return events
    out = []
    for e in events:
        step = 0.5 if style == "pulse" else max(e.duration / 2, 0.5)
        t, i = e.start, 0
        while t < e.start + e.duration - 1e-6:
            pitch = e.pitch + (7 if style == "root_fifth" and i % 2 else 0)
            vel = int(np.clip(e.velocity + rng.integers(-12, 6), 20, 127))
            out.append(Event(t, min(step * 0.9, e.start + e.duration - t), pitch, vel))
            t, i = t + step, i + 1
    return out


def _sounding(events: list[Event], beat: float) -> int | None:
    for e in events:
        if e.start <= beat < e.start + e.duration:
            return e.pitch
    return None


def _comping(voices: list[list[Event]], beats: float, rng: np.random.Generator) -> list[Event]:
    """Block chords of whatever the four voices sound on each comping hit."""
    rhythm = [(0.0, 1.0), (1.0, 1.0)] if rng.random() < 0.5 else [(0.5, 0.4), (1.5, 0.4)]
    if rng.random() < 0.3:
        rhythm = [(0.0, 2.0)]
    span = max(r[0] + r[1] for r in rhythm)
    span = 2.0 if span <= 2.0 else span
    out: list[Event] = []
    bar = 0.0
    while bar < beats:
        for offset, length in rhythm:
            t = bar + offset
            if t >= beats:
                break
            vel = int(rng.integers(50, 90))
            pitches = {p for v in voices if (p := _sounding(v, t)) is not None}
            out.extend(Event(t, min(length, beats - t), p, vel) for p in sorted(pitches))
        bar += span
    return out


def drum_pattern(
    beats: float, beats_per_bar: float, rng: np.random.Generator, style: str | None = None
) -> list[Event]:
    """A drum-kit groove at the song's tempo with crashes on phrase starts and tom fills: the
    given `style`, or one drawn to fit the bar (the chorales' songs draw it)."""
    triple = abs(beats_per_bar - 3.0) < 1e-6
    if style is None:
        style = (
            "waltz"
            if triple and rng.random() < 0.7
            else str(rng.choice(["rock", "sixteenth", "halftime", "ride", "four_floor"]))
        )
    hits: list[tuple[float, int, int]] = []  # (beat in bar, key, velocity)
    bar_len = beats_per_bar
    if style == "waltz":
        hits += [(0, KICK, 100), (1, SNARE, 70), (2, SNARE, 70)]
        hits += [(b * 0.5, HAT, 60) for b in range(int(bar_len * 2))]
    else:
        hat = RIDE if style == "ride" else HAT
        sub = 0.25 if style == "sixteenth" else 0.5
        steps = int(bar_len / sub)
        hits += [(b * sub, hat, 70 if (b * sub) % 1 == 0 else 50) for b in range(steps)]
        if style == "halftime":
            hits += [(0, KICK, 105), (2, SNARE, 100)]
        elif style == "four_floor":
            hits += [(b, KICK, 110) for b in range(int(bar_len))]
            hits += [(b + 0.5, OPEN_HAT, 65) for b in range(int(bar_len))]
            hits += [(b, CLAP, 95) for b in range(1, int(bar_len), 2)]
        else:
            hits += [(b, KICK, 105) for b in range(0, int(bar_len), 2)]
            hits += [
                (b, SNARE if rng.random() < 0.8 else SNARE2, 100) for b in range(1, int(bar_len), 2)
            ]
            if style == "sixteenth":
                hits.append((1.5, KICK, 85))
    phrase = int(rng.choice([4, 8]))
    swing = float(rng.uniform(0, 0.08)) if style in ("ride", "rock") else 0.0
    out: list[Event] = []
    bar_index = 0
    start = 0.0
    while start < beats:
        fill = (bar_index + 1) % phrase == 0
        for offset, key, vel in hits:
            if fill and offset >= bar_len - 1:
                continue
            t = start + offset + (swing if (offset * 2) % 2 == 1 else 0.0)
            t += float(rng.normal(0, 0.008))
            if 0 <= t < beats:
                v = int(np.clip(vel + rng.integers(-12, 12), 15, 127))
                out.append(Event(max(0.0, t), 0.2, key, v))
        if bar_index % phrase == 0:
            out.append(Event(start, 0.5, CRASH, int(rng.integers(80, 115))))
        if fill:
            toms = [HIGH_TOM, HIGH_TOM, MID_TOM, LOW_TOM]
            for i, key in enumerate(toms):
                t = start + bar_len - 1 + i * 0.25
                if t < beats:
                    out.append(Event(t, 0.2, key, int(rng.integers(80, 115))))
        start += bar_len
        bar_index += 1
    return sorted(out, key=lambda e: e.start)
