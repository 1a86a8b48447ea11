"""Reading a melody from a Standard MIDI File (notes in beats, whatever the file's tempo)."""

from __future__ import annotations

from pathlib import Path

from host import BadInput, Note


def read_notes(path: Path, field: str = "notes") -> list[Note]:
    import mido  # a project dependency; imported here so the plugin loads without it

    try:
        midi = mido.MidiFile(path)
    except (OSError, ValueError, EOFError, KeyError, IndexError) as exc:
        raise BadInput(field, f"is not a readable MIDI file ({path.name}: {exc})") from None
    ticks = float(midi.ticks_per_beat or 480)
    notes: list[Note] = []
    for track in midi.tracks:
        now = 0
        open_notes: dict[tuple[int, int], tuple[int, int]] = {}
        for message in track:
            now += message.time
            if message.type == "note_on" and message.velocity > 0:
                open_notes[(message.channel, message.note)] = (now, message.velocity)
            elif message.type in ("note_on", "note_off"):
                begun = open_notes.pop((message.channel, message.note), None)
                if begun and now > begun[0]:
                    notes.append(
                        Note(message.note, begun[1], begun[0] / ticks, (now - begun[0]) / ticks)
                    )
    return sorted(notes, key=lambda n: (n.start, -n.pitch))
