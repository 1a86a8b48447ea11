"""A small Standard MIDI File writer for note lists (the CLI's `--out x.mid`).

Written here rather than with mido because `host` stays free of wire libraries; writing a
type-0 file of notes is a page of code.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

from host.outputs import Note

TICKS_PER_BEAT = 480


def _variable_length(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def encode_smf(notes: Iterable[Note], tempo: float = 120.0, channel: int = 0) -> bytes:
    """A type-0 SMF: tempo meta event, then note-ons and note-offs in time order."""
    events: list[tuple[int, int, bytes]] = []  # (tick, order, message); offs sort before ons
    for note in notes:
        on = round(note.start * TICKS_PER_BEAT)
        off = max(on + 1, round((note.start + note.duration) * TICKS_PER_BEAT))
        events.append((on, 1, bytes([0x90 | channel, note.pitch, note.velocity])))
        events.append((off, 0, bytes([0x80 | channel, note.pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    microseconds = round(60_000_000 / tempo)
    track = bytearray(b"\x00\xff\x51\x03" + microseconds.to_bytes(3, "big"))
    last = 0
    for tick, _, message in events:
        track += _variable_length(tick - last) + message
        last = tick
    track += b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_BEAT)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def write_smf(path: Path, notes: Iterable[Note], tempo: float = 120.0) -> None:
    Path(path).write_bytes(encode_smf(notes, tempo))
