"""Generated songs with known beats: chords, bass, comping, a melody and (sometimes) drums in
3/4, 4/4 or 6/8 at a beat tempo of 70-180 BPM, as `separation.arrangement.Song`s that
`separation.synth` renders with FluidSynth.

The beat is the felt pulse: a quarter note in 3/4 and 4/4, a dotted quarter in 6/8 (two beats
a bar, each split in three). `Song` counts in quarter notes, so a 6/8 song at 100 BPM is a Song
at 150 quarter notes a minute. Timing is humanised (a few ms per note) but the tempo is steady,
so the beat times are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plugins.separation.arrangement import (
    BASS_PROGRAMS,
    COMP_PROGRAMS,
    CRASH,
    DRUM_KITS,
    HAT,
    KICK,
    OPEN_HAT,
    RIDE,
    SNARE,
    Event,
    Part,
    Song,
    drum_pattern,
)


@dataclass(frozen=True)
class Meter:
    """A time signature as the beat tracker sees it."""

    name: str
    numerator: int
    denominator: int
    beats_per_bar: int  # felt beats
    beat_quarters: float  # quarter notes per felt beat
    subdivision: int  # pulses per beat (2: simple, 3: compound)

    @property
    def bar_quarters(self) -> float:
        return self.beats_per_bar * self.beat_quarters


METERS = {
    "3/4": Meter("3/4", 3, 4, 3, 1.0, 2),
    "4/4": Meter("4/4", 4, 4, 4, 1.0, 2),
    "6/8": Meter("6/8", 6, 8, 2, 1.5, 3),
}
MIN_TEMPO, MAX_TEMPO = 70.0, 180.0

MELODY_PROGRAMS = (0, 4, 11, 13, 22, 24, 40, 56, 64, 65, 68, 71, 73, 80, 81)
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
# Scale degrees of chords and how likely each follows (a loose functional walk).
PROGRESSION = {0: (3, 4, 5, 1), 1: (4, 6), 3: (4, 0, 1), 4: (0, 5, 3), 5: (3, 1, 4), 6: (0,)}


@dataclass
class BeatSong:
    """A song plus its beat grid (seconds from the start of the song's first bar)."""

    song: Song
    meter: Meter
    beat_tempo: float
    drums: bool

    @property
    def beat_seconds(self) -> float:
        return 60.0 / self.beat_tempo

    def beats(self) -> np.ndarray:
        """Every felt beat of the song, in seconds."""
        count = int(self.song.beats / self.meter.beat_quarters + 1e-6)
        return np.arange(count) * self.beat_seconds

    def downbeats(self) -> np.ndarray:
        return self.beats()[:: self.meter.beats_per_bar]


def make_song(
    name: str,
    meter: Meter,
    beat_tempo: float,
    seconds: float,
    drums: bool,
    rng: np.random.Generator,
) -> BeatSong:
    """A random song of at least `seconds` in whole bars."""
    bar_seconds = meter.bar_quarters * 60.0 / (beat_tempo * meter.beat_quarters)
    bars = int(np.ceil(seconds / bar_seconds))
    song = Song(name, beat_tempo * meter.beat_quarters, bars * meter.bar_quarters)
    chords = _chords(bars, rng)
    tonic = int(rng.integers(48, 60))
    scale = MAJOR if rng.random() < 0.6 else MINOR
    accent = float(rng.uniform(0, 25))  # how much louder downbeats are (0: not at all)
    jitter = float(rng.uniform(0, 0.012)) * song.tempo / 60.0  # seconds -> quarter notes
    parts: list[tuple[str, int, list[Event]]] = []
    if rng.random() < 0.85 or not drums:
        parts.append(
            ("bass", int(rng.choice(BASS_PROGRAMS)), _bass(chords, tonic, scale, meter, rng))
        )
    if rng.random() < 0.85:
        parts.append(
            ("other", int(rng.choice(COMP_PROGRAMS)), _comp(chords, tonic, scale, meter, rng))
        )
    if rng.random() < 0.75 or len(parts) < 2:
        parts.append(
            ("vocals", int(rng.choice(MELODY_PROGRAMS)), _melody(chords, tonic, scale, meter, rng))
        )
    for stem, program, events in parts:
        events = [_humanise(e, meter, accent, jitter, rng) for e in events]
        song.parts.append(Part(stem, program, events, reverb=int(rng.integers(0, 80))))
    if drums:
        groove = (
            _compound_drums(song.beats, meter, rng)
            if meter.subdivision == 3
            else drum_pattern(song.beats, meter.bar_quarters, rng)
        )
        song.parts.append(
            Part(
                "drums",
                int(rng.choice(DRUM_KITS)),
                groove,
                drums=True,
                reverb=int(rng.integers(0, 50)),
            )
        )
    for stem in ("vocals", "drums", "bass", "other"):
        song.gains_db[stem] = float(rng.uniform(-8, 2))
    return BeatSong(song, meter, beat_tempo, drums)


def _chords(bars: int, rng: np.random.Generator) -> list[int]:
    """One chord (scale degree) per bar, starting on the tonic."""
    out = [0]
    while len(out) < bars:
        out.append(int(rng.choice(PROGRESSION[out[-1]])))
    return out


def _triad(degree: int, tonic: int, scale: tuple[int, ...]) -> list[int]:
    return [tonic + scale[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]


def _bass(chords: list[int], tonic: int, scale: tuple[int, ...], meter: Meter, rng) -> list[Event]:
    style = str(rng.choice(["held", "beats", "root_fifth", "pulse"]))
    beat = meter.beat_quarters
    out = []
    for bar, degree in enumerate(chords):
        root = _triad(degree, tonic, scale)[0] - 12
        start = bar * meter.bar_quarters
        if style == "held":
            out.append(Event(start, meter.bar_quarters * 0.95, root, 100))
            continue
        for b in range(meter.beats_per_bar):
            pitch = root + (7 if style == "root_fifth" and b % 2 else 0)
            vel = 105 if b == 0 else 85
            if style == "pulse" and b > 0:
                step = beat / meter.subdivision
                for s in range(meter.subdivision):
                    out.append(Event(start + b * beat + s * step, step * 0.8, pitch, vel - 10))
            else:
                out.append(Event(start + b * beat, beat * 0.9, pitch, vel))
    return out


def _comp(chords: list[int], tonic: int, scale: tuple[int, ...], meter: Meter, rng) -> list[Event]:
    """Chords in a pattern that fits the meter (oom-pah-pah, off-beats, arpeggios...)."""
    beat = meter.beat_quarters
    step = beat / meter.subdivision
    styles = ["block", "beats", "arpeggio"]
    if meter.beats_per_bar == 3:
        styles.append("oompah")
    if meter.subdivision == 2:
        styles.append("offbeats")
    style = str(rng.choice(styles))
    out: list = []
    for bar, degree in enumerate(chords):
        chord = _triad(degree, tonic, scale)
        start = bar * meter.bar_quarters
        hits: list[tuple[float, float, list[int]]] = []
        if style == "block":
            hits.append((0.0, meter.bar_quarters * 0.95, chord))
        elif style == "beats":
            hits += [(b * beat, beat * 0.8, chord) for b in range(meter.beats_per_bar)]
        elif style == "oompah":
            hits += [(b * beat, beat * 0.6, chord) for b in (1, 2)]
        elif style == "offbeats":
            hits += [(b * beat + step, step * 0.9, chord) for b in range(meter.beats_per_bar)]
        else:
            tones = chord + [chord[0] + 12]
            order = [0, 1, 2, 3, 2, 1] if meter.subdivision == 2 else [0, 2, 1, 3, 2, 1]
            count = meter.beats_per_bar * meter.subdivision
            hits += [(i * step, step * 0.95, [tones[order[i % len(order)]]]) for i in range(count)]
        for offset, length, pitches in hits:
            vel = int(rng.integers(55, 85))
            out.extend(Event(start + offset, length, p, vel) for p in pitches)
    return out


def _melody(
    chords: list[int], tonic: int, scale: tuple[int, ...], meter: Meter, rng
) -> list[Event]:
    """A stepwise line, one rhythm cell per beat, chord tones on the downbeats."""
    beat = meter.beat_quarters
    cells = (
        [[1.0], [0.5, 0.5], [0.75, 0.25], [0.25, 0.25, 0.5], [0.5, 0.25, 0.25]]
        if meter.subdivision == 2
        else [[1.5], [1.0, 0.5], [0.5, 0.5, 0.5], [0.75, 0.25, 0.5]]
    )
    degree = int(rng.integers(7, 12))  # index into the scale, an octave above the tonic
    out = []
    for bar, chord_degree in enumerate(chords):
        for b in range(meter.beats_per_bar):
            t = bar * meter.bar_quarters + b * beat
            if rng.random() < 0.12:
                continue  # a rest
            cell = cells[int(rng.integers(len(cells)))]
            for i, length in enumerate(cell):
                if b == 0 and i == 0:
                    degree = chord_degree + 7 + 2 * int(rng.integers(0, 3))
                else:
                    degree = int(np.clip(degree + rng.choice([-2, -1, -1, 1, 1, 2]), 5, 16))
                pitch = tonic + 12 + scale[degree % 7] + 12 * (degree // 7 - 1)
                out.append(Event(t, length * 0.9, pitch, int(rng.integers(70, 100))))
                t += length
    return out


def _humanise(e: Event, meter: Meter, accent: float, jitter: float, rng) -> Event:
    """Downbeat accent and a little timing spread; the beat grid itself stays exact."""
    on_downbeat = abs((e.start / meter.bar_quarters) % 1.0) < 1e-6
    vel = e.velocity + (accent if on_downbeat else 0.0) + rng.normal(0, 5)
    start = max(0.0, e.start + float(rng.normal(0, jitter)))
    return Event(start, e.duration, e.pitch, int(np.clip(vel, 20, 127)))


def _compound_drums(quarters: float, meter: Meter, rng) -> list[Event]:
    """A 6/8 groove: kick on 1, snare or rim on 2 (the fourth eighth), eighths on the hat."""
    bar = meter.bar_quarters
    hat = RIDE if rng.random() < 0.3 else HAT
    style = str(rng.choice(["basic", "shuffle", "sparse"]))
    out = []
    t = 0.0
    index = 0
    while t < quarters - 1e-6:
        hits = [(0.0, KICK, 105), (1.5, SNARE, 95)]
        if style != "sparse":
            hits += [(i * 0.5, hat, 75 if i % 3 == 0 else 50) for i in range(6)]
        else:
            hits += [(0.0, hat, 70), (1.5, hat, 70)]
        if style == "shuffle":
            hits.append((1.0, KICK, 80))
        if index % 4 == 0:
            hits.append((0.0, CRASH, 100))
        if index % 4 == 3 and rng.random() < 0.5:
            hits.append((2.5, OPEN_HAT, 80))
        for offset, key, vel in hits:
            start = t + offset + float(rng.normal(0, 0.01))
            out.append(
                Event(max(0.0, start), 0.2, key, int(np.clip(vel + rng.integers(-10, 10), 20, 127)))
            )
        t += bar
        index += 1
    return sorted(out, key=lambda e: e.start)
