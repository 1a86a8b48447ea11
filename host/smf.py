"""A small Standard MIDI File writer for note lists: the files a DAW user drags in.

Written here rather than with mido because `host` stays free of wire libraries; writing a
type-0 file of notes is a page of code. A continuation's file keeps the primer's timeline:
its tempo and time signature, the primer (optionally) where it was, and the continuation on
the bar line where the model was told it starts (`continuation_smf`).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from host.outputs import Note

TICKS_PER_BEAT = 480
MIDI_MEDIA_TYPE = "audio/midi"


@dataclass(frozen=True)
class Timeline:
    """The musical time a file's beats live in: tempo and time signature from its start."""

    tempo: float = 120.0
    numerator: int = 4
    denominator: int = 4

    @property
    def beats_per_bar(self) -> float:
        return self.numerator * 4.0 / self.denominator

    def next_bar(self, beat: float) -> float:
        """The first bar line at or after `beat` (bar lines from beat 0)."""
        bars = math.ceil(beat / self.beats_per_bar - 1e-6)
        return max(0, bars) * self.beats_per_bar


def _variable_length(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _signature_event(numerator: int, denominator: int) -> bytes:
    if not 1 <= numerator <= 255 or denominator < 1 or denominator & (denominator - 1):
        raise ValueError(f"time signature {numerator}/{denominator} cannot be written to SMF")
    # FF 58: numerator, log2(denominator), 24 MIDI clocks per metronome click, 8 32nds a beat
    return b"\x00\xff\x58\x04" + bytes([numerator, denominator.bit_length() - 1, 24, 8])


def encode_smf(
    notes: Iterable[Note],
    tempo: float = 120.0,
    channel: int = 0,
    numerator: int = 4,
    denominator: int = 4,
) -> bytes:
    """A type-0 SMF: tempo and time signature, then note-ons and note-offs in time order."""
    events: list[tuple[int, int, bytes]] = []  # (tick, order, message); offs sort before ons
    for note in notes:
        on = max(0, round(note.start * TICKS_PER_BEAT))
        off = max(on + 1, round((note.start + note.duration) * TICKS_PER_BEAT))
        events.append((on, 1, bytes([0x90 | channel, note.pitch, note.velocity])))
        events.append((off, 0, bytes([0x80 | channel, note.pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    microseconds = min(0xFFFFFF, round(60_000_000 / tempo))
    track = bytearray(b"\x00\xff\x51\x03" + microseconds.to_bytes(3, "big"))
    track += _signature_event(numerator, denominator)
    last = 0
    for tick, _, message in events:
        track += _variable_length(tick - last) + message
        last = tick
    track += b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_BEAT)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def write_smf(
    path: Path,
    notes: Iterable[Note],
    tempo: float = 120.0,
    numerator: int = 4,
    denominator: int = 4,
) -> None:
    Path(path).write_bytes(encode_smf(notes, tempo, numerator=numerator, denominator=denominator))


def continuation_smf(
    primer: list[Note],
    continuation: list[Note],
    start_beat: float,
    timeline: Timeline,
    include_primer: bool = True,
) -> bytes:
    """A continuation as a DAW expects it: on the primer's timeline (its tempo, signature and
    beats), the continuation's beat 0 at `start_beat`, the primer kept where it was or left
    out (the continuation stays at its place either way, so the file lines up when dropped
    at the song's start)."""
    placed = [
        Note(n.pitch, n.velocity, round(start_beat + n.start, 6), n.duration) for n in continuation
    ]
    notes = (list(primer) if include_primer else []) + placed
    return encode_smf(
        notes, timeline.tempo, numerator=timeline.numerator, denominator=timeline.denominator
    )
