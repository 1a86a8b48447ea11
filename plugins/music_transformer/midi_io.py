"""Reading a primer from a Standard MIDI File into dawhost notes in beats (with mido).

Beats come from the file's ticks per beat, not its tempo map: the DAW's tempo decides how fast
the primer is heard, as it does for notes sent over the wire. Drums (channel 10) are skipped.
"""

from __future__ import annotations

from pathlib import Path

import mido

from host import BadInput, Note

DRUM_CHANNEL = 9


def read_midi_notes(path: Path, field: str = "primer") -> list[Note]:
    if not Path(path).is_file():
        raise BadInput(field, f"file {str(path)!r} does not exist")
    try:
        midi = mido.MidiFile(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise BadInput(
            field, f"file {Path(path).name!r} is not a readable MIDI file ({exc})"
        ) from None
    if midi.type == 2:
        raise BadInput(field, "MIDI type 2 files (independent sequences) are not supported")
    per_beat = float(midi.ticks_per_beat or 480)
    notes: list[Note] = []
    for track in midi.tracks:
        tick = 0
        sounding: dict[tuple[int, int], tuple[int, int]] = {}  # (channel, pitch) -> (tick, vel)
        for message in track:
            tick += message.time
            if message.type not in ("note_on", "note_off") or message.channel == DRUM_CHANNEL:
                continue
            key = (message.channel, message.note)
            if key in sounding:
                start, velocity = sounding.pop(key)
                if tick > start:
                    notes.append(
                        Note(message.note, velocity, start / per_beat, (tick - start) / per_beat)
                    )
            if message.type == "note_on" and message.velocity > 0:
                sounding[key] = (tick, message.velocity)
        for (_, pitch), (start, velocity) in sounding.items():  # never released: end at track end
            if tick > start:
                notes.append(Note(pitch, velocity, start / per_beat, (tick - start) / per_beat))
    notes.sort(key=lambda n: (n.start, n.pitch))
    return notes
