"""Reading note lists as clients send them: flat `pitch velocity start duration` groups (OSC),
lists of 4-item lists, or objects with named fields (JSON)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from host.errors import BadInput
from host.outputs import Note

MAX_NOTES = 20_000


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
        if not math.isfinite(number):
            raise BadInput(field, f"{where}: {name} must be finite, got {number!r}")
    if not (0 <= pitch <= 127 and float(pitch).is_integer()):
        raise BadInput(field, f"{where}: pitch {pitch!r} must be a whole number 0..127")
    if not 1 <= velocity <= 127:
        raise BadInput(field, f"{where}: velocity {velocity!r} must be 1..127")
    if start < 0:
        raise BadInput(field, f"{where}: start {start!r} must be >= 0 beats")
    if duration <= 0:
        raise BadInput(field, f"{where}: duration {duration!r} must be > 0 beats")
    return Note(int(pitch), int(round(velocity)), float(start), float(duration))
