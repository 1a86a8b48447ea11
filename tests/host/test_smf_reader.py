"""The host's MIDI file reader: beats from ticks, drums, re-strikes, bad files, and the same
notes as mido reads from files mido writes."""

from __future__ import annotations

import random
from pathlib import Path

import mido
import pytest

from host import BadInput, Note
from host.smf import Timeline, write_smf
from host.smf_reader import read_smf
from host.smf_reader import read_smf_notes as read_midi_notes


def write(path: Path, messages: list[mido.Message], ticks_per_beat: int = 96) -> Path:
    midi = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=1_000_000), *messages]))
    midi.save(path)
    return path


def test_notes_are_in_beats_whatever_the_file_tempo(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.mid",
        [
            mido.Message("note_on", note=60, velocity=90, time=0),
            mido.Message("note_on", note=64, velocity=70, time=48),
            mido.Message("note_off", note=60, time=48),
            mido.Message("note_on", note=64, velocity=0, time=96),  # velocity 0 is a note-off
            mido.Message("note_on", note=36, velocity=100, channel=9, time=0),
            mido.Message("note_off", note=36, channel=9, time=96),
        ],
    )
    notes = read_midi_notes(path, "primer")
    assert notes == [Note(60, 90, 0.0, 1.0), Note(64, 70, 0.5, 1.5), Note(36, 100, 2.0, 1.0)]
    assert Note(36, 100, 2.0, 1.0) not in read_midi_notes(path, "primer", skip_drums=True)


def test_restruck_and_unreleased_notes_are_closed(tmp_path: Path) -> None:
    path = write(
        tmp_path / "b.mid",
        [
            mido.Message("note_on", note=60, velocity=90, time=0),
            mido.Message("note_on", note=60, velocity=80, time=96),  # re-struck: ends the first
            mido.Message("note_on", note=62, velocity=10, time=96),  # never released
        ],
    )
    # The second 60 ends at the track's end; 62 starts there, so it has no length and is dropped.
    assert read_midi_notes(path, "notes") == [Note(60, 90, 0.0, 1.0), Note(60, 80, 1.0, 1.0)]


def test_a_file_that_is_not_midi_names_the_input(tmp_path: Path) -> None:
    path = tmp_path / "c.mid"
    path.write_bytes(b"RIFF not midi")
    with pytest.raises(BadInput) as caught:
        read_midi_notes(path, "primer")
    assert caught.value.field == "primer" and "c.mid" in caught.value.message


def test_cut_short_and_smpte_files_say_what_is_wrong(tmp_path: Path) -> None:
    whole = write(tmp_path / "whole.mid", [mido.Message("note_on", note=60, velocity=90)])
    cut = tmp_path / "cut.mid"
    cut.write_bytes(whole.read_bytes()[:20])
    smpte = tmp_path / "smpte.mid"  # division 0xE728: -25 frames a second, 40 ticks a frame
    smpte.write_bytes(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\xe7\x28" + whole.read_bytes()[14:])
    with pytest.raises(BadInput) as caught:
        read_midi_notes(cut, "primer")
    assert "ends in the middle of a chunk" in caught.value.message
    with pytest.raises(BadInput) as caught:
        read_midi_notes(smpte, "primer")
    assert "SMPTE" in caught.value.message


def test_a_drums_only_file_is_refused_when_drums_are_skipped(tmp_path: Path) -> None:
    path = write(
        tmp_path / "drums.mid",
        [
            mido.Message("note_on", note=36, velocity=100, channel=9),
            mido.Message("note_off", note=36, channel=9, time=96),
        ],
    )
    assert read_midi_notes(path, "primer") == [Note(36, 100, 0.0, 1.0)]
    with pytest.raises(BadInput) as caught:
        read_midi_notes(path, "primer", skip_drums=True)
    assert "drum channel" in caught.value.message


def _mido_notes(path: Path) -> list[Note]:
    """What mido makes of a file, paired on/off as the reader does (the reference)."""
    midi = mido.MidiFile(path)
    notes: list[Note] = []
    for track in midi.tracks:
        tick, sounding = 0, {}
        for message in track:
            tick += message.time
            if message.type not in ("note_on", "note_off"):
                continue
            key = (message.channel, message.note)
            if key in sounding:
                start, velocity = sounding.pop(key)
                if tick > start:
                    notes.append(Note(message.note, velocity, start / 96, (tick - start) / 96))
            if message.type == "note_on" and message.velocity > 0:
                sounding[key] = (tick, message.velocity)
        for (_, pitch), (start, velocity) in sounding.items():
            if tick > start:
                notes.append(Note(pitch, velocity, start / 96, (tick - start) / 96))
    return sorted(notes, key=lambda n: (n.start, n.pitch))


@pytest.mark.parametrize("seed", range(12))
def test_random_files_read_as_mido_reads_them(tmp_path: Path, seed: int) -> None:
    """Several tracks of random notes, controls, pitch bends, program changes, sysex and meta
    events (mido writes running status): the reader finds exactly mido's notes."""
    rng = random.Random(seed)
    midi = mido.MidiFile(type=1, ticks_per_beat=96)
    for _ in range(rng.randint(1, 3)):
        track = mido.MidiTrack([mido.MetaMessage("track_name", name="part")])
        for _ in range(rng.randint(0, 60)):
            channel, time = rng.randrange(16), rng.choice([0, 0, 12, 48, 96, 500])
            kind = rng.random()
            if kind < 0.4:
                message = mido.Message(
                    "note_on",
                    channel=channel % 3,
                    note=rng.randrange(128),
                    velocity=rng.choice([0, 1, 64, 127]),
                    time=time,
                )
            elif kind < 0.6:
                message = mido.Message(
                    "note_off", channel=channel % 3, note=rng.randrange(128), time=time
                )
            elif kind < 0.7:
                message = mido.Message("control_change", channel=channel, control=7, time=time)
            elif kind < 0.8:
                message = mido.Message("pitchwheel", channel=channel, pitch=-300, time=time)
            elif kind < 0.85:
                message = mido.Message("program_change", channel=channel, program=5, time=time)
            elif kind < 0.9:
                message = mido.Message("sysex", data=[1, 2, 3], time=time)
            else:
                message = mido.MetaMessage("set_tempo", tempo=rng.randint(300_000, 900_000))
            track.append(message)
        midi.tracks.append(track)
    path = tmp_path / f"random-{seed}.mid"
    midi.save(path)
    assert read_midi_notes(path, "notes") == _mido_notes(path)


def test_an_undefined_status_byte_is_named(tmp_path: Path) -> None:
    track = b"\x00\xf4\x00\xff\x2f\x00"
    path = tmp_path / "odd.mid"
    path.write_bytes(
        b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk" + len(track).to_bytes(4, "big") + track
    )
    with pytest.raises(BadInput) as caught:
        read_midi_notes(path, "notes")
    assert "undefined status byte 0xf4" in caught.value.message


def test_timeline_of_a_file_and_smf_defaults(tmp_path: Path) -> None:
    path = tmp_path / "a.mid"
    write_smf(path, [Note(60, 90, 0, 1)], tempo=96.0, numerator=6, denominator=8)
    timeline = read_smf(path, "primer").timeline
    assert (timeline.tempo, timeline.numerator, timeline.denominator) == (96.0, 6, 8)
    assert timeline.beats_per_bar == 3.0 and timeline.next_bar(3.2) == 6.0
    bare = tmp_path / "bare.mid"
    mido.MidiFile(tracks=[mido.MidiTrack([mido.Message("note_on", note=60)])]).save(bare)
    assert read_smf(bare, "primer").timeline == Timeline()


def test_the_first_tempo_and_signature_in_track_order_as_mido_lists_them(tmp_path: Path) -> None:
    midi = mido.MidiFile(type=1, ticks_per_beat=96)
    midi.tracks.append(mido.MidiTrack([mido.Message("note_on", note=60, time=500)]))
    midi.tracks.append(
        mido.MidiTrack(
            [
                mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(77.0)),
                mido.MetaMessage("time_signature", numerator=5, denominator=8),
                mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(140.0)),
            ]
        )
    )
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=100)]))  # 600k BPM
    path = tmp_path / "t.mid"
    midi.save(path)
    timeline = read_smf(path, "primer").timeline
    assert timeline == Timeline(tempo=60_000_000 / mido.bpm2tempo(77.0), numerator=5, denominator=8)
