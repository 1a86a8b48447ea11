"""The performance-event vocabulary (Oore et al. 2018) and note <-> token conversion.

Tokens: 128 NOTE_ON, 128 NOTE_OFF, 100 TIME_SHIFT (10 ms .. 1 s), 32 VELOCITY bins, then PAD,
END and one style token per style. A sequence is `[style, events...]`. Times here are seconds;
beats are converted at the edges (plugin, MIDI files) with the tempo.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

NOTE_ON = 0
NOTE_OFF = 128
TIME_SHIFT = 256
SHIFT_STEPS = 100
STEP_SECONDS = 0.01
VELOCITY = TIME_SHIFT + SHIFT_STEPS  # 356
VELOCITY_BINS = 32
PAD = VELOCITY + VELOCITY_BINS  # 388
END = PAD + 1
STYLES: tuple[str, ...] = (
    "any",
    "bach",
    "palestrina",
    "renaissance",
    "irish",
    "essen",
    "classical",
)
STYLE = END + 1
VOCAB_SIZE = STYLE + len(STYLES)
DEFAULT_VELOCITY = 64
# The sampler's key prior (generate.key_bias): strengths above this are refused. Here, not in
# generate.py, so the plugin's Options can bound its option without importing torch.
KEY_STRENGTH_MAX = 4.0


@dataclass(frozen=True)
class TimedNote:
    """A note in seconds (the model's own time base)."""

    pitch: int
    velocity: int
    start: float
    duration: float


def style_token(style: str) -> int:
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; known: {', '.join(STYLES)}")
    return STYLE + STYLES.index(style)


def velocity_bin(velocity: int) -> int:
    return min(VELOCITY_BINS - 1, max(0, int(velocity)) * VELOCITY_BINS // 128)


def bin_velocity(index: int) -> int:
    """The velocity a bin decodes to (the middle of its range, at least 1)."""
    return max(1, index * 128 // VELOCITY_BINS + 128 // VELOCITY_BINS // 2)


def quantize(notes: Iterable[TimedNote]) -> list[TimedNote]:
    """What a round trip through tokens gives back: 10 ms times, binned velocities, and at
    most one sounding note per pitch (a re-struck pitch ends the earlier note)."""
    return decode(encode(notes)).notes


def encode(notes: Iterable[TimedNote]) -> list[int]:
    """Notes in seconds -> event tokens (no style token). Offs sort before ons at one time so
    repeated notes stay separate; a velocity token only when the velocity bin changes."""
    actions: list[tuple[int, int, int, int]] = []  # (step, 0=off/1=on, pitch, velocity bin)
    for note in notes:
        on = max(0, round(note.start / STEP_SECONDS))
        off = max(on + 1, round((note.start + note.duration) / STEP_SECONDS))
        actions.append((on, 1, note.pitch, velocity_bin(note.velocity)))
        actions.append((off, 0, note.pitch, 0))
    actions.sort()
    tokens: list[int] = []
    sounding: dict[int, int] = {}  # pitch -> number of ons not yet matched by an off
    now = 0
    current_bin = -1
    for step, is_on, pitch, vbin in actions:
        while step > now:
            jump = min(SHIFT_STEPS, step - now)
            tokens.append(TIME_SHIFT + jump - 1)
            now += jump
        if is_on:
            if sounding.get(pitch, 0) > 0:
                tokens.append(NOTE_OFF + pitch)  # overlap of one pitch: restrike
            sounding[pitch] = sounding.get(pitch, 0) + 1
            if vbin != current_bin:
                tokens.append(VELOCITY + vbin)
                current_bin = vbin
            tokens.append(NOTE_ON + pitch)
        else:
            count = sounding.get(pitch, 0)
            if count == 1:
                tokens.append(NOTE_OFF + pitch)
            sounding[pitch] = max(0, count - 1)
    return tokens


@dataclass
class DecodeStats:
    """How well-formed a token stream was."""

    note_ons: int = 0
    unclosed: int = 0  # NOTE_ON never closed by a NOTE_OFF (closed at the end instead)
    impossible: int = 0  # NOTE_OFF of a silent pitch, a restruck NOTE_ON, PAD/style mid-stream

    @property
    def well_formed(self) -> bool:
        return self.unclosed == 0 and self.impossible == 0


@dataclass
class EventDecoder:
    """Incremental token -> note decoding, so notes can be sent while generation goes on.

    `feed` returns the notes completed by one token (a NOTE_OFF closes one)."""

    time: float = 0.0
    velocity: int = DEFAULT_VELOCITY
    sounding: dict[int, tuple[float, int]] = field(default_factory=dict)
    stats: DecodeStats = field(default_factory=DecodeStats)

    def feed(self, token: int) -> list[TimedNote]:
        if NOTE_ON <= token < NOTE_OFF:
            pitch = token - NOTE_ON
            self.stats.note_ons += 1
            done = []
            if pitch in self.sounding:
                self.stats.impossible += 1
                done.append(self._close(pitch))
            self.sounding[pitch] = (self.time, self.velocity)
            return done
        if NOTE_OFF <= token < TIME_SHIFT:
            pitch = token - NOTE_OFF
            if pitch not in self.sounding:
                self.stats.impossible += 1
                return []
            return [self._close(pitch)]
        if TIME_SHIFT <= token < VELOCITY:
            self.time = round(self.time + (token - TIME_SHIFT + 1) * STEP_SECONDS, 6)
        elif VELOCITY <= token < PAD:
            self.velocity = bin_velocity(token - VELOCITY)
        elif token != END:
            self.stats.impossible += 1
        return []

    def _close(self, pitch: int) -> TimedNote:
        start, velocity = self.sounding.pop(pitch)
        duration = max(STEP_SECONDS, round(self.time - start, 6))
        return TimedNote(pitch, velocity, start, duration)

    def flush(self, at: float | None = None) -> list[TimedNote]:
        """Close every sounding note (at `at`, or the current time) and count them unclosed."""
        if at is not None:
            self.time = max(self.time, at)
        self.stats.unclosed += len(self.sounding)
        return [self._close(pitch) for pitch in sorted(self.sounding)]


def velocity_after(tokens: Sequence[int]) -> int:
    """The velocity in force at the end of a token stream (for decoding what follows it)."""
    for token in reversed(tokens):
        if VELOCITY <= token < PAD:
            return bin_velocity(token - VELOCITY)
    return DEFAULT_VELOCITY


@dataclass
class Decoded:
    notes: list[TimedNote]
    stats: DecodeStats
    end_time: float


def decode(tokens: Sequence[int]) -> Decoded:
    """Event tokens -> notes sorted by (start, pitch); style tokens at the front are skipped."""
    decoder = EventDecoder()
    start = 0
    while start < len(tokens) and tokens[start] >= STYLE:
        start += 1
    notes: list[TimedNote] = []
    for token in tokens[start:]:
        notes.extend(decoder.feed(token))
    end_time = decoder.time
    notes.extend(decoder.flush())
    notes.sort(key=lambda n: (n.start, n.pitch))
    return Decoded(notes, decoder.stats, end_time)
