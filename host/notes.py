"""Reading note lists as clients send them: flat `pitch velocity start duration` groups (OSC),
lists of 4-item lists, or objects with named fields (JSON)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from host.errors import BadInput
from host.outputs import Note

MAX_NOTES = 20_000
MAX_BEATS = 100_000.0  # about 14 hours at 120 BPM: beyond it a time is a client's mistake


def parse_notes(value: Any, field: str) -> list[Note]:
    if not isinstance(value, (list, tuple)):
        raise BadInput(field, f"must be a list of notes, got {type(value).__name__}")
    if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        if len(value) % 4:
            raise BadInput(
                field,
                f"has {len(value)} numbers; notes travel as groups of 4 "
                "(pitch velocity start_beat duration_beat)",
            )
        groups: Sequence[Any] = [value[i : i + 4] for i in range(0, len(value), 4)]
    else:
        groups = value
    if len(groups) > MAX_NOTES:
        raise BadInput(field, f"has {len(groups)} notes; at most {MAX_NOTES} are accepted")
    return [_note(item, index, field) for index, item in enumerate(groups)]


def _note(item: Any, index: int, field: str) -> Note:
    where = f"note {index}"
    if isinstance(item, dict):
        try:
            item = [item["pitch"], item.get("velocity", 100), item["start"], item["duration"]]
        except KeyError as missing:
            raise BadInput(field, f"{where} lacks {missing}") from None
    if not isinstance(item, (list, tuple)) or len(item) != 4:
        raise BadInput(field, f"{where} must be [pitch, velocity, start_beat, duration_beat]")
    pitch, velocity, start, duration = item
    for name, number in (
        ("pitch", pitch),
        ("velocity", velocity),
        ("start", start),
        ("duration", duration),
    ):
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise BadInput(field, f"{where}: {name} must be a number, got {number!r}")
        if not math.isfinite(number if isinstance(number, float) else min(abs(number), 1e300)):
            raise BadInput(field, f"{where}: {name} must be finite, got {number!r}")
    if max(abs(start), abs(duration)) > MAX_BEATS:
        raise BadInput(field, f"{where}: start and duration must be within {MAX_BEATS:g} beats")
    if not (0 <= pitch <= 127 and float(pitch).is_integer()):
        raise BadInput(field, f"{where}: pitch {pitch!r} must be a whole number 0..127")
    if not 1 <= velocity <= 127:
        raise BadInput(field, f"{where}: velocity {velocity!r} must be 1..127")
    if start < 0:
        raise BadInput(field, f"{where}: start {start!r} must be >= 0 beats")
    if duration <= 0:
        raise BadInput(field, f"{where}: duration {duration!r} must be > 0 beats")
    return Note(int(pitch), int(round(velocity)), float(start), float(duration))


def unplayable(note: Note) -> str | None:
    """What makes a model's output note impossible to play as MIDI, or None. Checked once in
    the engine so no front-end sends a pitch of 132 or a note-off before its note-on."""
    if not (isinstance(note.pitch, int) and 0 <= note.pitch <= 127):
        return f"pitch {note.pitch!r} is not a whole number 0..127"
    if not (isinstance(note.velocity, int) and 1 <= note.velocity <= 127):
        return f"velocity {note.velocity!r} is not a whole number 1..127"
    if not (0 <= note.start <= MAX_BEATS):
        return f"start {note.start!r} is not a beat from 0 to {MAX_BEATS:g}"
    if not (0 < note.duration <= MAX_BEATS):
        return f"duration {note.duration!r} is not a positive number of beats"
    return None
