"""Reading the notes of a Standard MIDI File, in beats, for every model's MIDI-file inputs,
and the timeline (tempo, time signature) the file starts with.

Written here rather than with mido because `host` stays free of wire libraries (as `host.smf`
writes files). It reads what mido reads, the same way (running status, sysex and other meta
events skipped, a track read until its declared length), but keeps only notes, tempo and
signature. Beats come from the file's ticks per beat, not its tempo map: the DAW's tempo
decides how fast the notes are heard, as it does for notes sent over the wire.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from host.errors import BadInput
from host.outputs import Note
from host.smf import Timeline

DRUM_CHANNEL = 9  # MIDI channel 10
MAX_EVENT_BYTES = 1_000_000  # a meta or sysex event longer than this is a broken file

# Data bytes after the status byte, for every status a file may hold besides meta (0xFF) and
# sysex (0xF0, 0xF7). Channel messages by their high nibble; system messages by themselves.
_CHANNEL_DATA = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}
_SYSTEM_DATA = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xFA: 0, 0xFB: 0, 0xFC: 0, 0xFE: 0}

_Event = tuple[int, int, int, int]  # (absolute tick, status, first data byte, second data byte)
SET_TEMPO, TIME_SIGNATURE = 0x51, 0x58


@dataclass(frozen=True)
class MidiFileNotes:
    notes: list[Note]
    timeline: Timeline  # the first tempo and signature in the file, else SMF's 120 BPM 4/4


class _Broken(Exception):
    """The file cannot be read as MIDI; the text says why."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, count: int) -> bytes:
        if self.at + count > len(self.data):
            raise _Broken("it ends in the middle of a chunk")
        chunk = self.data[self.at : self.at + count]
        self.at += count
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def variable(self) -> int:
        value = 0
        while True:
            byte = self.byte()
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                return value

    def chunk_header(self) -> tuple[bytes, int]:
        name, size = struct.unpack(">4sL", self.take(8))
        return name, size

    def event_data(self) -> bytes:
        length = self.variable()
        if length > MAX_EVENT_BYTES:
            raise _Broken(f"an event of {length} bytes exceeds {MAX_EVENT_BYTES}")
        return self.take(length)


class _Meta:
    """The first tempo (BPM) and time signature met, in track order as mido lists them."""

    def __init__(self) -> None:
        self.tempo: float | None = None
        self.signature: tuple[int, int] | None = None

    def saw(self, kind: int, data: bytes) -> None:
        # mido decodes these two from their bytes and fails on a short one: so do we
        if kind == SET_TEMPO:
            if len(data) < 3:
                raise _Broken("a set_tempo event is too short")
            if self.tempo is None:
                microseconds = int.from_bytes(data[:3], "big")
                self.tempo = 60_000_000 / microseconds if microseconds else 999.0
        elif kind == TIME_SIGNATURE:
            if len(data) < 4:
                raise _Broken("a time_signature event is too short")
            if self.signature is None:
                self.signature = (data[0], 2 ** data[1])

    def timeline(self) -> Timeline:
        numerator, denominator = self.signature or (4, 4)
        return Timeline(
            tempo=min(999.0, max(20.0, self.tempo)) if self.tempo else 120.0,
            numerator=numerator or 4,
            denominator=denominator or 4,
        )


def _track(reader: _Reader, meta: _Meta) -> list[_Event]:
    name, size = reader.chunk_header()
    if name != b"MTrk":
        raise _Broken("no MTrk header at start of track")
    start, tick, running = reader.at, 0, None
    events: list[_Event] = []
    # As mido: a track ends where its declared length is used up exactly.
    while reader.at - start != size:
        tick += reader.variable()
        status = reader.byte()
        data: list[int] = []
        if status < 0x80:
            if running is None:
                raise _Broken("running status without last_status")
            data, status = [status], running
        elif status != 0xFF:  # meta events do not set running status
            running = status
        if status == 0xFF:
            kind = reader.byte()
            meta.saw(kind, reader.event_data())
            continue
        if status in (0xF0, 0xF7):
            reader.event_data()
            continue
        count = _CHANNEL_DATA.get(status & 0xF0) if status < 0xF0 else _SYSTEM_DATA.get(status)
        if count is None:
            raise _Broken(f"undefined status byte 0x{status:02x}")
        data += reader.take(count - len(data))
        if any(byte > 127 for byte in data):
            raise _Broken("data byte must be in range 0..127")
        if status & 0xF0 in (0x80, 0x90):
            events.append((tick, status, data[0], data[1]))
    events.append((tick, 0, 0, 0))  # the track's end, where unreleased notes stop
    return events


def _read(data: bytes) -> tuple[int, int, list[list[_Event]], Timeline]:
    """(format, ticks per beat (negative: SMPTE), note events of each track, timeline)."""
    reader, meta = _Reader(data), _Meta()
    name, size = reader.chunk_header()
    if name != b"MThd":
        raise _Broken("MThd not found. Probably not a MIDI file")
    header = reader.take(min(size, len(data) - reader.at))  # as mido: what there is
    if len(header) < 6:
        raise _Broken("it ends in the middle of a chunk")
    form, tracks, division = struct.unpack(">hhh", header[:6])
    events = [_track(reader, meta) for _ in range(tracks)]
    return form, division, events, meta.timeline()


def read_smf_notes(path: Path, field: str, skip_drums: bool = False) -> list[Note]:
    """Every note of every track, sorted by start then pitch (see `read_smf`)."""
    return read_smf(path, field, skip_drums).notes


def read_smf(path: Path, field: str, skip_drums: bool = False) -> MidiFileNotes:
    """Every note of every track, sorted by start then pitch, and the file's timeline. A
    re-struck pitch ends the sounding one; notes never released end at their track's end.
    `field` names the input in errors; with `skip_drums` the drum channel (10) is left out,
    and a file of drums alone is refused."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(field, f"file {str(path)!r} does not exist")
    try:
        form, division, tracks, timeline = _read(path.read_bytes())
    except (_Broken, OSError) as exc:
        raise BadInput(field, f"file {path.name!r} is not a readable MIDI file ({exc})") from None
    if form == 2:
        raise BadInput(field, "MIDI type 2 files (independent sequences) are not supported")
    if division <= 0:  # negative: the header's top bit set, SMPTE frames
        raise BadInput(
            field,
            f"file {path.name!r} does not count time in beats (SMPTE frames or no time "
            "base); export it from your DAW with a ticks-per-beat (PPQN) time base",
        )
    per_beat = float(division)
    notes: list[Note] = []
    drums = 0
    for events in tracks:
        sounding: dict[tuple[int, int], tuple[int, int]] = {}  # (channel, pitch) -> (tick, vel)
        for tick, status, pitch, velocity in events[:-1]:
            channel = status & 0x0F
            if skip_drums and channel == DRUM_CHANNEL:
                drums += 1
                continue
            key = (channel, pitch)
            if key in sounding:
                start, held = sounding.pop(key)
                if tick > start:
                    notes.append(Note(pitch, held, start / per_beat, (tick - start) / per_beat))
            if status & 0xF0 == 0x90 and velocity > 0:
                sounding[key] = (tick, velocity)
        end = events[-1][0]
        for (_, pitch), (start, velocity) in sounding.items():
            if end > start:
                notes.append(Note(pitch, velocity, start / per_beat, (end - start) / per_beat))
    if drums and not notes:
        raise BadInput(
            field,
            f"file {path.name!r} has notes only on the drum channel (10), which this "
            "model does not play; move the part to another channel",
        )
    notes.sort(key=lambda n: (n.start, n.pitch))
    return MidiFileNotes(notes, timeline)
