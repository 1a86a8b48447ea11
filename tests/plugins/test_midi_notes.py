"""The plugins' shared MIDI file reader: beats from ticks, drums, re-strikes, bad files."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from host import BadInput, Note
from host.smf import Timeline
from plugins.midi_notes import read_midi_notes


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


def test_a_parser_error_without_text_is_still_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bare_error(_path: object) -> None:
        raise IndexError()

    monkeypatch.setattr(mido, "MidiFile", bare_error)
    (tmp_path / "x.mid").write_bytes(b"MThd")
    with pytest.raises(BadInput) as caught:
        read_midi_notes(tmp_path / "x.mid", "primer")
    assert "(IndexError)" in caught.value.message


def test_timeline_of_a_file_and_smf_defaults(tmp_path: Path) -> None:
    from host.smf import write_smf
    from plugins.midi_notes import read_midi_timeline

    path = tmp_path / "a.mid"
    write_smf(path, [Note(60, 90, 0, 1)], tempo=96.0, numerator=6, denominator=8)
    timeline = read_midi_timeline(path)
    assert (timeline.tempo, timeline.numerator, timeline.denominator) == (96.0, 6, 8)
    assert timeline.beats_per_bar == 3.0 and timeline.next_bar(3.2) == 6.0
    bare = tmp_path / "bare.mid"
    mido.MidiFile(tracks=[mido.MidiTrack([mido.Message("note_on", note=60)])]).save(bare)
    assert read_midi_timeline(bare) == Timeline()
