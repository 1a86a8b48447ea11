"""Reading notes from a Standard MIDI File into dawhost notes in beats (shared by the plugins).

Beats come from the file's ticks per beat, not its tempo map: the DAW's tempo decides how fast
the notes are heard, as it does for notes sent over the wire.
"""

from __future__ import annotations

from pathlib import Path

from host import BadInput, Note
from host.smf import Timeline

DRUM_CHANNEL = 9  # MIDI channel 10


def read_midi_notes(path: Path, field: str, skip_drums: bool = False) -> list[Note]:
    """Every note of every track, sorted by start then pitch. A re-struck pitch ends the
    sounding one; notes never released end at their track's end."""
    import mido  # imported here so plugins register without loading it

    if not Path(path).is_file():
        raise BadInput(field, f"file {str(path)!r} does not exist")
    try:
        midi = mido.MidiFile(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        # mido's EOFError has no text of its own, nor do some of its bare KeyErrors/IndexErrors
        reason = "it ends in the middle of a chunk" if isinstance(exc, EOFError) else str(exc)
        reason = reason or type(exc).__name__
        raise BadInput(
            field, f"file {Path(path).name!r} is not a readable MIDI file ({reason})"
        ) from None
    if midi.type == 2:
        raise BadInput(field, "MIDI type 2 files (independent sequences) are not supported")
    if midi.ticks_per_beat <= 0:  # negative: the header's top bit set, SMPTE frames
        raise BadInput(
            field,
            f"file {Path(path).name!r} does not count time in beats (SMPTE frames or no time "
            "base); export it from your DAW with a ticks-per-beat (PPQN) time base",
        )
    per_beat = float(midi.ticks_per_beat)
    notes: list[Note] = []
    drums = 0
    for track in midi.tracks:
        tick = 0
        sounding: dict[tuple[int, int], tuple[int, int]] = {}  # (channel, pitch) -> (tick, vel)
        for message in track:
            tick += message.time
            if message.type not in ("note_on", "note_off"):
                continue
            if skip_drums and message.channel == DRUM_CHANNEL:
                drums += 1
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
        for (_, pitch), (start, velocity) in sounding.items():
            if tick > start:
                notes.append(Note(pitch, velocity, start / per_beat, (tick - start) / per_beat))
    if drums and not notes:
        raise BadInput(
            field,
            f"file {Path(path).name!r} has notes only on the drum channel (10), which this "
            "model does not play; move the part to another channel",
        )
    notes.sort(key=lambda n: (n.start, n.pitch))
    return notes


def read_midi_timeline(path: Path) -> Timeline:
    """The tempo and time signature a MIDI file starts with (the first of each, in any track;
    SMF's defaults 120 BPM and 4/4 when it has none). Call after `read_midi_notes`, which
    reports unreadable files."""
    import mido

    tempo = numerator = denominator = None
    for track in mido.MidiFile(path).tracks:
        for message in track:
            if message.type == "set_tempo" and tempo is None:
                tempo = mido.tempo2bpm(message.tempo)
            elif message.type == "time_signature" and numerator is None:
                numerator, denominator = message.numerator, message.denominator
    return Timeline(
        tempo=min(999.0, max(20.0, float(tempo))) if tempo else 120.0,
        numerator=numerator or 4,
        denominator=denominator or 4,
    )
