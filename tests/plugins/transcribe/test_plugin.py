"""The transcribe model inside dawhost: audio at any rate, mono or stereo, WAV/FLAC/OGG ->
notes in beats, a MIDI file and the timings in seconds; options; bad input as a BAD_INPUT
error after which the server keeps serving."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile

import host
from host import ErrorCode
from host.requests import Done, Error, OutputEvent
from plugins.transcribe.decode import SecondsNote
from plugins.transcribe.plugin import NoteTranscriber, to_beats
from tests.fakes import run_requests
from tests.plugins.transcribe.conftest import melody


def _model(checkpoint: Path) -> NoteTranscriber:
    model = NoteTranscriber()
    model.checkpoint = checkpoint
    return model


def _outputs(events: list) -> dict:  # type: ignore[type-arg]
    return {e.output.name: e.output for e in events if isinstance(e, OutputEvent)}


@pytest.mark.parametrize(
    ("suffix", "rate", "channels"), [(".wav", 44_100, 2), (".flac", 22_050, 1), (".ogg", 48_000, 2)]
)
def test_any_format_rate_and_channels_give_notes_a_midi_file_and_timings(
    tmp_path: Path, tiny_checkpoint: Path, suffix: str, rate: int, channels: int
) -> None:
    path = tmp_path / f"phrase{suffix}"
    soundfile.write(path, melody(rate, channels=channels), rate)
    # a low onset threshold so even the untrained network finds notes to carry through
    (events,) = run_requests(
        tmp_path,
        _model(tiny_checkpoint),
        "transcribe",
        {"inputs": {"audio": str(path)}, "options": {"onset_threshold": 0.05}},
        tempo=90.0,
    )
    assert isinstance(events[-1], Done), events[-1]
    outputs = _outputs(events)
    notes = outputs["notes"]
    assert isinstance(notes, host.NotesOutput)
    midi = outputs["midi"]
    assert isinstance(midi, host.FileOutput) and midi.path.suffix == ".mid"
    smf = mido.MidiFile(midi.path)
    assert smf.ticks_per_beat == 480
    tempos = [m.tempo for m in smf.tracks[0] if m.type == "set_tempo"]
    assert tempos == [round(60_000_000 / 90.0)]
    ons = [m for m in smf.tracks[0] if m.type == "note_on" and m.velocity > 0]
    assert len(ons) == len(notes.notes)
    timing = outputs["timing"]
    assert isinstance(timing, host.DataOutput)
    assert timing.data["tempo"] == 90.0
    assert timing.data["seconds"] == pytest.approx(1.5, abs=0.01)
    for note, (pitch, velocity, onset, duration) in zip(
        notes.notes, timing.data["notes_seconds"], strict=True
    ):
        assert (note.pitch, note.velocity) == (pitch, velocity)
        assert note.start == pytest.approx(onset * 1.5, abs=1e-3)  # 90 BPM: 1.5 beats a second
        assert note.duration == pytest.approx(duration * 1.5, abs=1e-3)


def test_options_filter_the_notes(tmp_path: Path, tiny_checkpoint: Path, stereo_wav: Path) -> None:
    (loose, ranged, mono) = run_requests(
        tmp_path,
        _model(tiny_checkpoint),
        "transcribe",
        {"inputs": {"audio": str(stereo_wav)}, "options": {"onset_threshold": 0.05}},
        {
            "inputs": {"audio": str(stereo_wav)},
            "options": {"onset_threshold": 0.05, "lowest_pitch": 60, "highest_pitch": 72},
        },
        {
            "inputs": {"audio": str(stereo_wav)},
            "options": {"onset_threshold": 0.05, "monophonic": True, "quantize": "1/16"},
        },
    )
    all_notes = _outputs(loose)["notes"].notes
    assert all_notes, "the untrained network at threshold 0.05 should still fire somewhere"
    in_range = _outputs(ranged)["notes"].notes
    assert all(60 <= n.pitch <= 72 for n in in_range)
    assert len(in_range) == sum(60 <= n.pitch <= 72 for n in all_notes)
    one_at_a_time = _outputs(mono)["notes"].notes
    for a, b in zip(one_at_a_time, one_at_a_time[1:], strict=False):
        assert a.start + a.duration <= b.start + 1e-6
    for n in one_at_a_time:
        assert (n.start / 0.25) == pytest.approx(round(n.start / 0.25))
        assert n.duration >= 0.25


def test_bad_input_is_an_error_and_the_next_request_works(
    tmp_path: Path, tiny_checkpoint: Path, stereo_wav: Path
) -> None:
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("hello")
    nan = tmp_path / "nan.wav"
    samples = melody(16_000)
    samples[100] = np.nan
    soundfile.write(nan, samples, 16_000, subtype="FLOAT")
    bad, broken, good = run_requests(
        tmp_path,
        _model(tiny_checkpoint),
        "transcribe",
        {"inputs": {"audio": str(not_audio)}},
        {"inputs": {"audio": str(nan)}},
        {"inputs": {"audio": str(stereo_wav)}},
    )
    for events, problem in (
        (bad, "not a readable audio file"),
        (broken, "NaN"),
    ):
        assert isinstance(events[-1], Error), events[-1]
        assert events[-1].code is ErrorCode.BAD_INPUT and problem in events[-1].message
    assert isinstance(good[-1], Done)


def test_silence_is_an_answer_not_an_error(tmp_path: Path, tiny_checkpoint: Path) -> None:
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros((16_000, 1), np.float32), 16_000)
    (events,) = run_requests(
        tmp_path, _model(tiny_checkpoint), "transcribe", {"inputs": {"audio": str(silent)}}
    )
    assert isinstance(events[-1], Done), events[-1]
    assert isinstance(_outputs(events)["notes"], host.NotesOutput)


def test_missing_checkpoint_names_the_trainer(tmp_path: Path, stereo_wav: Path) -> None:
    (events,) = run_requests(
        tmp_path,
        _model(tmp_path / "absent.pt"),
        "transcribe",
        {"inputs": {"audio": str(stereo_wav)}},
    )
    assert isinstance(events[-1], Error)
    assert "dawhost train transcribe" in events[-1].message


def test_to_beats_follows_the_tempo_and_the_grid() -> None:
    notes = [SecondsNote(60, 90, 0.5, 0.74), SecondsNote(64, 80, 1.01, 1.02)]
    plain = to_beats(notes, 120.0)
    assert [(n.start, n.duration) for n in plain] == [
        (1.0, pytest.approx(0.48)),
        (2.02, pytest.approx(0.02)),
    ]
    snapped = to_beats(notes, 120.0, "1/8")
    assert [(n.start, n.duration) for n in snapped] == [(1.0, 0.5), (2.0, 0.5)]


def test_last_bars_transcribes_only_the_end_of_the_recording(tmp_path: Path) -> None:
    """The shipped network on A4, C5, E5 (half a second each = one beat at 120 BPM): the last
    quarter bar (one beat) is the E5 alone, at beat 0 of what is returned."""
    path = tmp_path / "phrase.wav"
    soundfile.write(path, melody(44_100), 44_100)
    whole, last = run_requests(
        tmp_path,
        NoteTranscriber(),
        "transcribe",
        {"inputs": {"audio": str(path)}},
        {"inputs": {"audio": str(path)}, "options": {"last_bars": 0.25}},
        tempo=120.0,
    )
    assert [n.pitch for n in _outputs(whole)["notes"].notes] == [69, 72, 76]
    notes = _outputs(last)["notes"].notes
    assert [n.pitch for n in notes] == [76]
    assert notes[0].start == pytest.approx(0.0, abs=0.1)
    assert _outputs(last)["timing"].data["from_second"] == pytest.approx(1.0, abs=0.01)
