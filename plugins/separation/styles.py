"""Band arrangements that are not chorales: chord progressions with a generated vocal melody,
keys and guitars that sustain, strum or arpeggiate, walking / eighth-note / root-fifth bass and
a drum groove that fits, in 4/4, 3/4 or 6/8 at 70-180 BPM.

The Bach chorales (arrangement.py) gave every song a hymn's harmony and rhythm; songs people
separate are mostly pop, rock, ballads, blues and jazz. One style (`HELD_OUT_STYLE`, jazz:
extended chords, shell voicings, swing ride, bebop-ish lines) is never built for training, so
the evaluation can measure separation on a style the network has not heard.

Everything is in beats (quarter notes), as in arrangement.py; one `numpy.random.Generator`
decides everything, so a (style, seed) pair always gives the same song.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plugins.separation import arrangement as arr
from plugins.separation.arrangement import Event, Part, Song

QUALITIES = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dom7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "m7b5": (0, 3, 6, 10),
    "power": (0, 7, 12),
    "sus4": (0, 5, 7),
    "dom9": (0, 4, 7, 10, 14),
    "min9": (0, 3, 7, 10, 14),
    "maj9": (0, 4, 7, 11, 14),
}
Chord = tuple[int, str]  # (root in semitones above the key, quality)

PROGRESSIONS: dict[str, tuple[tuple[Chord, ...], ...]] = {
    "pop": (
        ((0, "maj"), (7, "maj"), (9, "min"), (5, "maj")),
        ((9, "min"), (5, "maj"), (0, "maj"), (7, "maj")),
        ((0, "maj"), (9, "min"), (5, "maj"), (7, "maj")),
        ((0, "maj"), (5, "maj"), (9, "min"), (7, "sus4")),
    ),
    "rock": (
        ((0, "power"), (10, "power"), (5, "power"), (0, "power")),
        ((0, "maj"), (5, "maj"), (7, "maj"), (5, "maj")),
        ((9, "min"), (5, "maj"), (0, "maj"), (10, "maj")),
        ((0, "power"), (3, "power"), (5, "power"), (3, "power")),
    ),
    "ballad": (
        ((0, "maj"), (4, "min"), (5, "maj"), (7, "maj")),
        ((0, "maj7"), (9, "min7"), (2, "min7"), (7, "dom7")),
        (
            (0, "maj"),
            (7, "maj"),
            (9, "min"),
            (4, "min"),
            (5, "maj"),
            (0, "maj"),
            (5, "maj"),
            (7, "maj"),
        ),
    ),
    "waltz": (
        ((0, "maj"), (5, "maj"), (7, "dom7"), (0, "maj")),
        ((0, "maj"), (9, "min"), (2, "min"), (7, "dom7")),
    ),
    "blues": (
        tuple((r, "dom7") for r in (0, 5, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7)),
        tuple((r, "dom7") for r in (0, 0, 0, 0, 5, 5, 0, 0, 7, 7, 0, 0)),
    ),
    "jazz": (
        ((2, "min9"), (7, "dom9"), (0, "maj9"), (9, "dom7")),
        ((0, "maj7"), (9, "min7"), (2, "min7"), (7, "dom7")),
        ((4, "min7"), (9, "dom7"), (2, "min9"), (7, "dom9")),
        (
            (11, "m7b5"),
            (4, "dom7"),
            (9, "min7"),
            (9, "min7"),
            (2, "min7"),
            (7, "dom7"),
            (0, "maj7"),
            (0, "maj7"),
        ),
    ),
}


@dataclass(frozen=True)
class Style:
    """What a style may choose from; each song draws one of each."""

    meters: tuple[str, ...]  # "4/4", "3/4", "6/8"
    tempo: tuple[float, float]  # quarter notes per minute
    keys: tuple[str, ...]  # how the chord instrument plays (see _keys)
    bass: tuple[str, ...]
    grooves: tuple[str, ...]
    keys_programs: tuple[int, ...]  # GM programs (0-based) for the chord instrument
    pad_programs: tuple[int, ...]  # a second "other" instrument holding the chords
    bass_programs: tuple[int, ...]
    swing: float = 0.0  # eighths delayed by this share of a beat (0.17: triplet swing)


STYLES: dict[str, Style] = {
    "pop": Style(
        ("4/4", "4/4", "6/8"),
        (85, 130),
        ("block", "arpeggio", "sustained"),
        ("eighths", "root_fifth", "octaves"),
        ("rock", "four_floor", "halftime", "sixteenth"),
        (0, 1, 4, 5, 24, 25, 27),
        (48, 49, 50, 88, 89, 90, 91, 94),
        (33, 34, 36, 38, 39),
    ),
    "rock": Style(
        ("4/4",),
        (110, 180),
        ("block", "sustained"),
        ("eighths", "root_fifth"),
        ("rock", "sixteenth", "halftime"),
        (29, 30, 27, 16, 17, 18),
        (16, 17, 48, 61),
        (33, 34, 35, 38),
    ),
    "ballad": Style(
        ("6/8", "3/4", "4/4"),
        (70, 100),
        ("arpeggio", "sustained"),
        ("sustained", "root_fifth"),
        ("six_eight", "halftime", "ride"),
        (0, 1, 4, 46, 24, 25, 11),
        (48, 49, 52, 89, 92, 19),
        (32, 33, 35, 39),
    ),
    "waltz": Style(
        ("3/4",),
        (90, 180),
        ("oompah", "arpeggio"),
        ("root_fifth", "sustained"),
        ("waltz",),
        (0, 21, 6, 24, 46, 40),
        (48, 49, 21, 22),
        (32, 33, 43),
    ),
    "blues": Style(
        ("4/4",),
        (70, 130),
        ("block", "sustained"),
        ("walking", "eighths"),
        ("shuffle", "ride"),
        (0, 16, 17, 26, 27, 61),
        (16, 17, 19, 61, 65, 66),
        (32, 33, 34),
        swing=0.17,
    ),
    "jazz": Style(
        ("4/4",),
        (110, 180),
        ("shell",),
        ("walking",),
        ("swing",),
        (0, 4, 11, 26, 0),
        (11, 4, 65, 66, 48),
        (32, 32, 33),
        swing=0.17,
    ),
}
HELD_OUT_STYLE = "jazz"
TRAIN_STYLES = tuple(s for s in STYLES if s != HELD_OUT_STYLE)
METER_BEATS = {"4/4": 4.0, "3/4": 3.0, "6/8": 3.0}  # bar length in quarter notes


def arrange_style(
    name: str, style_name: str, rng: np.random.Generator, max_seconds: float = 24.0
) -> tuple[Song, float]:
    """A song in `style_name` and its bar length in beats (for sung vocals and bars)."""
    style = STYLES[style_name]
    meter = str(rng.choice(style.meters))
    bar = METER_BEATS[meter]
    tempo = float(rng.uniform(*style.tempo))
    key = int(rng.integers(-5, 7))
    progression = PROGRESSIONS[style_name][int(rng.integers(len(PROGRESSIONS[style_name])))]
    chords_per_bar = 2 if (bar == 4.0 and len(progression) <= 4 and rng.random() < 0.25) else 1
    beats = max_seconds * tempo / 60.0
    bars = max(2, int(beats // bar))
    beats = bars * bar
    chord_len = bar / chords_per_bar
    timeline = [
        (i * chord_len, progression[i % len(progression)])
        for i in range(int(round(beats / chord_len)))
    ]
    song = Song(name, tempo, beats)
    song.parts.append(
        Part(
            "vocals",
            int(rng.choice(arr.VOICE_PROGRAMS)),
            melody(timeline, chord_len, key, bar, meter, style.swing, rng),
            reverb=int(rng.integers(10, 90)),
            vibrato_cents=float(rng.uniform(0, 45)),
            vibrato_hz=float(rng.uniform(4.5, 6.5)),
        )
    )
    song.parts.append(
        Part(
            "bass",
            int(rng.choice(style.bass_programs)),
            bass_line(timeline, chord_len, key, meter, str(rng.choice(style.bass)), rng),
            reverb=int(rng.integers(0, 40)),
        )
    )
    song.parts.append(
        Part(
            "other",
            int(rng.choice(style.keys_programs)),
            keys_part(timeline, chord_len, key, meter, str(rng.choice(style.keys)), style, rng),
            reverb=int(rng.integers(10, 90)),
        )
    )
    if rng.random() < 0.6:  # a pad or organ under it
        song.parts.append(
            Part(
                "other",
                int(rng.choice(style.pad_programs)),
                keys_part(timeline, chord_len, key, meter, "sustained", style, rng),
                reverb=int(rng.integers(20, 100)),
            )
        )
    song.parts.append(
        Part(
            "drums",
            int(rng.choice(arr.DRUM_KITS)),
            groove(beats, bar, str(rng.choice(style.grooves)), rng),
            drums=True,
            reverb=int(rng.integers(0, 60)),
        )
    )
    for stem in ("vocals", "drums", "bass", "other"):
        song.gains_db[stem] = float(rng.uniform(-9, 3))
    if rng.random() < 0.15:
        song.gains_db[str(rng.choice(["vocals", "drums", "bass"]))] = -np.inf
    return song, bar


def _chord_pitches(chord: Chord, key: int, low: int) -> list[int]:
    """The chord's tones from the first root at or above `low`."""
    root = low + (chord[0] + key - low) % 12
    return [root + i for i in QUALITIES[chord[1]]]


def _velocity(rng: np.random.Generator, centre: int, spread: int = 10) -> int:
    return int(np.clip(centre + rng.integers(-spread, spread + 1), 20, 127))


def _swung(t: float, swing: float) -> float:
    """Off-beat eighths late by `swing` of a beat (triplet feel at 0.17)."""
    return t + swing if swing and abs((t * 2) % 2 - 1) < 1e-6 else t


def melody(
    timeline: list[tuple[float, Chord]],
    chord_len: float,
    key: int,
    bar: float,
    meter: str,
    swing: float,
    rng: np.random.Generator,
) -> list[Event]:
    """A singable line: chord tones on strong beats, scale steps between, phrases of two bars
    with a breath at the end, in a range centred on one octave."""
    scale = (0, 2, 4, 5, 7, 9, 11)
    centre = int(rng.integers(60, 72))
    durations = (0.5, 0.5, 1.0, 1.0, 1.5, 2.0) if meter == "4/4" else (0.5, 1.0, 1.5)
    out: list[Event] = []
    pitch = centre
    t = 0.0
    end = timeline[-1][0] + chord_len
    while t < end - 0.25:
        phrase_end = (int(t // (2 * bar)) + 1) * 2 * bar
        if phrase_end - t <= 1.0 and rng.random() < 0.7:  # breathe before the next phrase
            t = phrase_end
            continue
        length = float(min(rng.choice(durations), phrase_end - t))
        chord = timeline[min(int(t // chord_len), len(timeline) - 1)][1]
        tones = [p for p in range(centre - 8, centre + 10) if (p - key) % 12 in scale]
        strong = abs(t % 1.0) < 1e-6
        if strong:
            chord_tones = {(key + chord[0] + i) % 12 for i in QUALITIES[chord[1]]}
            tones = [p for p in tones if p % 12 in chord_tones] or tones
        near = sorted(tones, key=lambda p: abs(p - pitch) + rng.uniform(0, 3))
        pitch = near[min(len(near) - 1, int(rng.integers(0, 3)))]
        start = _swung(t, swing)
        out.append(Event(start, max(0.2, length * 0.92 - (start - t)), pitch, _velocity(rng, 95)))
        t += length
    return out


def bass_line(
    timeline: list[tuple[float, Chord]],
    chord_len: float,
    key: int,
    meter: str,
    pattern: str,
    rng: np.random.Generator,
) -> list[Event]:
    out: list[Event] = []
    for i, (start, chord) in enumerate(timeline):
        root = _chord_pitches(chord, key, 28)[0]
        fifth = root + 7
        if pattern == "sustained":
            out.append(Event(start, chord_len * 0.95, root, _velocity(rng, 95)))
        elif pattern == "root_fifth":
            beat = 1.5 if meter == "6/8" else (1.0 if chord_len == 3.0 else chord_len / 2)
            for j, t in enumerate(np.arange(0, chord_len - 1e-6, beat)):
                note = root if j % 2 == 0 else fifth
                out.append(Event(start + float(t), beat * 0.8, note, _velocity(rng, 100)))
        elif pattern in ("eighths", "octaves"):
            for j, t in enumerate(np.arange(0, chord_len - 1e-6, 0.5)):
                note = root + 12 if pattern == "octaves" and j % 2 else root
                out.append(Event(start + float(t), 0.42, note, _velocity(rng, 100, 8)))
        else:  # walking: chord tones on the beat, a chromatic step into the next root
            nxt = _chord_pitches(timeline[(i + 1) % len(timeline)][1], key, 28)[0]
            tones = _chord_pitches(chord, key, 28)
            steps = int(chord_len)
            for j in range(steps):
                if j == 0:
                    note = root
                elif j == steps - 1:
                    note = nxt + int(rng.choice([-1, 1, -2]))
                else:
                    note = int(rng.choice(tones[1:] + [root + 12, root + 2]))
                out.append(Event(start + j, 0.9, note, _velocity(rng, 100)))
    return out


def keys_part(
    timeline: list[tuple[float, Chord]],
    chord_len: float,
    key: int,
    meter: str,
    pattern: str,
    style: Style,
    rng: np.random.Generator,
) -> list[Event]:
    """The chord instrument: sustained, block (struck on a rhythm), arpeggio (chord tones
    up and down in eighths or sixteenths), oompah (beats 2 and 3 of a waltz) or shell (jazz
    3rd-7th voicings on an anticipated, Charleston-like rhythm)."""
    low = int(rng.integers(52, 60))
    step = 0.25 if pattern == "arpeggio" and rng.random() < 0.3 else 0.5
    block_rhythm = [(0.0, 1.0), (1.0, 1.0), (2.0, 0.5), (2.5, 1.5)]
    if rng.random() < 0.5:
        block_rhythm = [(0.0, 1.5), (1.5, 1.0), (2.5, 1.5)]
    out: list[Event] = []
    for start, chord in timeline:
        tones = _chord_pitches(chord, key, low)
        if pattern == "sustained":
            out += [Event(start, chord_len * 0.98, p, _velocity(rng, 70)) for p in tones]
        elif pattern == "block":
            rhythm = block_rhythm if chord_len == 4.0 else [(0.0, 1.0), (1.0, 1.0), (2.0, 1.0)]
            for offset, length in rhythm:
                if offset >= chord_len:
                    continue
                t = _swung(start + offset, style.swing)
                vel = _velocity(rng, 85 if offset == 0 else 72)
                out += [Event(t, min(length, chord_len - offset) * 0.9, p, vel) for p in tones]
        elif pattern == "arpeggio":
            cycle = tones + [tones[0] + 12] + tones[-2:0:-1] if len(tones) > 2 else tones
            for j, t in enumerate(np.arange(0, chord_len - 1e-6, step)):
                vel = _velocity(rng, 80 if j == 0 else 66)
                when = _swung(start + float(t), style.swing)
                out.append(Event(when, step * 1.8, cycle[j % len(cycle)], vel))
        elif pattern == "oompah":
            for beat in (1.0, 2.0):
                if beat < chord_len:
                    out += [Event(start + beat, 0.6, p, _velocity(rng, 70)) for p in tones]
        else:  # shell: third and seventh (and the ninth if the chord has one)
            intervals = QUALITIES[chord[1]]
            root = tones[0]
            shell = [root + intervals[1], root + intervals[-1] - (12 if intervals[-1] > 12 else 0)]
            hits = [(0.0, 1.2), (1.5, 0.4)] if rng.random() < 0.5 else [(-0.5, 1.0), (2.0, 0.8)]
            for offset, length in hits:
                t = start + offset
                if 0 <= t and offset < chord_len:
                    out += [Event(t, length, p, _velocity(rng, 70)) for p in shell]
    return sorted(out, key=lambda e: e.start)


def groove(beats: float, bar: float, name: str, rng: np.random.Generator) -> list[Event]:
    """A drum groove: the chorale arrangement's grooves (arrangement.drum_pattern) and a 6/8,
    a triplet shuffle and a jazz swing ride."""
    if name in ("rock", "sixteenth", "halftime", "ride", "four_floor", "waltz"):
        return arr.drum_pattern(beats, bar, rng, style=name)
    out: list[Event] = []
    t0 = 0.0
    index = 0
    while t0 < beats:
        hits: list[tuple[float, int, int]] = []
        if name == "six_eight":  # six eighths, kick on 1, snare on 4
            hits += [(i * 0.5, arr.HAT, 70 if i % 3 == 0 else 50) for i in range(6)]
            hits += [(0.0, arr.KICK, 105), (1.5, arr.SNARE, 95)]
            if rng.random() < 0.4:
                hits.append((2.5, arr.KICK, 80))
        elif name == "shuffle":  # triplet hats, backbeat
            hits += [
                (b + o, arr.HAT, 70 if o == 0 else 50) for b in range(int(bar)) for o in (0, 2 / 3)
            ]
            hits += [(b, arr.KICK, 100) for b in range(0, int(bar), 2)]
            hits += [(b, arr.SNARE, 95) for b in range(1, int(bar), 2)]
        else:  # swing: ride "spang-a-lang", hat foot on 2 and 4, feathered kick
            hits += [(b, arr.RIDE, 80) for b in range(int(bar))]
            hits += [(b + 2 / 3, arr.RIDE, 60) for b in range(1, int(bar), 2)]
            hits += [(b, arr.PEDAL_HAT, 70) for b in range(1, int(bar), 2)]
            hits += [(b, arr.KICK, 40) for b in range(int(bar))]
            if rng.random() < 0.5:
                hits.append((float(rng.choice([1.66, 2.66, 3.66])), arr.SNARE, 60))
        if index % 4 == 0:
            hits.append((0.0, arr.CRASH, 100))
        for offset, key, vel in hits:
            t = t0 + offset + float(rng.normal(0, 0.008))
            if 0 <= t < beats:
                out.append(Event(max(0.0, t), 0.2, key, _velocity(rng, vel, 12)))
        t0 += bar
        index += 1
    return sorted(out, key=lambda e: e.start)
