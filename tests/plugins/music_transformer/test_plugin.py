"""The music-transformer model through the dawhost core: streamed notes in beats after the
primer's end, bars at the transport's signature, MIDI file primers, quantisation, variations,
seeds, truncation notice, cancel, and errors that name the problem."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from host import FileOutput, Note, NotesOutput
from host.errors import ErrorCode
from host.memory import MemoryFrontend
from host.requests import Done, Error, OutputEvent
from host.smf import write_smf
from plugins.music_transformer.plugin import (
    MusicTransformerModel,
    MusicTransformerOptions,
    quantize_notes,
    quantize_within,
)
from tests.fakes import make_core, run_requests

# Up the C major scale a beat per note, as the tiny fixture model was trained to play.
PRIMER = [60, 82, 0, 1, 62, 82, 1, 1, 64, 82, 2, 1, 65, 82, 3, 1]


def _model(checkpoint: Path) -> MusicTransformerModel:
    model = MusicTransformerModel()
    model.checkpoint = checkpoint
    return model


def _request(
    tmp_path: Path, checkpoint: Path, signature: tuple[int, int] = (4, 4), **fields: object
) -> list[object]:
    model = _model(checkpoint)
    return run_requests(tmp_path / "work", model, "continue", fields, signature=signature)[0]


def _notes(events: list[object], name: str | None = None) -> list[Note]:
    assert isinstance(events[-1], Done), events[-1]
    outputs = [e.output for e in events if isinstance(e, OutputEvent)]
    return [
        n
        for o in outputs
        if hasattr(o, "notes") and (name is None or o.name == name)
        for n in o.notes  # type: ignore[attr-defined]
    ]


def test_continuation_streams_notes_within_the_requested_bars(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    events = _request(
        tmp_path,
        tiny_checkpoint,
        signature=(3, 4),
        inputs={"primer": PRIMER},
        options={"bars": 2, "temperature": 0.5},
        seed=1,
    )
    outputs = [e.output for e in events if isinstance(e, OutputEvent)]
    assert isinstance(outputs[-1], FileOutput) and outputs[-1].name == "midi"
    outputs = [o for o in outputs if isinstance(o, NotesOutput)]
    assert len(outputs) > 2  # streamed, not one batch at the end
    assert [o.final for o in outputs].count(True) == 1 and outputs[-1].final
    notes = _notes(events)
    assert notes
    for note in notes:
        assert 0 <= note.start < 6.0  # 2 bars of 3/4, relative to the primer's end
        assert note.start + note.duration <= 6.0 + 1e-6
        assert 0 <= note.pitch <= 127 and 1 <= note.velocity <= 127


def test_same_seed_same_notes_other_seed_other_notes(tmp_path: Path, tiny_checkpoint: Path) -> None:
    def run(seed: int) -> list[Note]:
        return _notes(
            _request(
                tmp_path,
                tiny_checkpoint,
                inputs={"primer": PRIMER},
                options={"bars": 2, "temperature": 1.5},
                seed=seed,
            )
        )

    assert run(5) == run(5)
    assert len({tuple(run(seed)) for seed in (5, 6, 7)}) > 1


def test_midi_file_primer_variations_and_quantisation(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    path = tmp_path / "work" / "primer.mid"  # inputs must live in the work folder
    path.parent.mkdir(parents=True)
    write_smf(path, [Note(62, 80, i * 0.5, 0.5) for i in range(8)], tempo=120.0)
    events = _request(
        tmp_path,
        tiny_checkpoint,
        inputs={"primer": str(path)},
        options={"bars": 1, "variations": 2, "quantize": "1/8", "chunk": "bar"},
        seed=2,
    )
    names = {e.output.name for e in events if isinstance(e, OutputEvent)}
    assert names == {"notes-1", "notes-2", "midi-1", "midi-2"}
    names = {"notes-1", "notes-2"}
    for name in names:
        for note in _notes(events, name):
            assert (note.start * 2).is_integer() and (note.duration * 2).is_integer()
            assert note.duration >= 0.5


def test_quantize_snaps_to_triplets_and_keeps_one_step() -> None:
    snapped = quantize_notes([Note(60, 90, 0.35, 0.01), Note(61, 90, 0.9, 0.5)], "1/8t")
    assert snapped[0].start == pytest.approx(1 / 3) and snapped[0].duration == pytest.approx(1 / 3)
    assert snapped[1].start == pytest.approx(1.0) and snapped[1].duration == pytest.approx(1 / 3)


def test_quantized_notes_stay_inside_the_requested_bars() -> None:
    notes = [Note(60, 90, 3.8, 0.2), Note(62, 90, 3.7, 0.3), Note(64, 90, 1.2, 0.5)]
    assert quantize_within(notes, "1/8", 4.0) == [Note(62, 90, 3.5, 0.5), Note(64, 90, 1.0, 0.5)]
    # 3.8 snaps onto the bar line at 4.0: without the cut it would start the next bar
    assert [n.start for n in quantize_notes(notes, "1/8")] == [4.0, 3.5, 1.0]


def test_long_primer_is_cut_from_the_start_and_the_reply_says_so(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    long_primer = [x for i in range(40) for x in (60 + i % 12, 90, i * 0.5, 0.5)]
    events = _request(
        tmp_path, tiny_checkpoint, inputs={"primer": long_primer}, options={"bars": 1}, seed=0
    )
    warnings = [
        e.output
        for e in events
        if isinstance(e, OutputEvent) and e.output.name == "primer-truncated"
    ]
    assert len(warnings) == 1
    assert warnings[0].data["primer_events"] > warnings[0].data["kept_events"] > 0
    assert "last" in warnings[0].data["message"]


@pytest.mark.parametrize(
    ("fields", "code", "field", "words"),
    [
        ({"inputs": {"primer": []}}, ErrorCode.BAD_INPUT, "primer", "needs input"),
        ({"inputs": {"primer": [200, 90, 0, 1]}}, ErrorCode.BAD_INPUT, "primer", "pitch"),
        ({"inputs": {"primer": PRIMER}, "options": {"bars": 0}}, ErrorCode.BAD_OPTION, "bars", "1"),
        (
            {"inputs": {"primer": PRIMER}, "options": {"bars": 99}},
            ErrorCode.BAD_OPTION,
            "bars",
            "32",
        ),
        (
            {"inputs": {"primer": PRIMER}, "options": {"style": "jazz"}},
            ErrorCode.BAD_OPTION,
            "style",
            "bach",
        ),
        (
            {"inputs": {"primer": PRIMER}, "options": {"key_strength": 5}},
            ErrorCode.BAD_OPTION,
            "key_strength",
            "4",
        ),
        (
            {"inputs": {"primer": PRIMER}, "options": {"key_strength": -1}},
            ErrorCode.BAD_OPTION,
            "key_strength",
            "0",
        ),
    ],
)
def test_bad_requests_get_errors_naming_the_problem(
    tmp_path: Path, tiny_checkpoint: Path, fields: dict, code: ErrorCode, field: str, words: str
) -> None:
    events = _request(tmp_path, tiny_checkpoint, **fields)
    assert isinstance(events[-1], Error)
    assert events[-1].code == code and events[-1].field == field
    assert words in events[-1].message


def test_a_file_that_is_not_midi_is_a_bad_input(tmp_path: Path, tiny_checkpoint: Path) -> None:
    fake = tmp_path / "work" / "not.mid"
    fake.parent.mkdir(parents=True)
    fake.write_text("this is a text file")
    events = _request(tmp_path, tiny_checkpoint, inputs={"primer": str(fake)})
    assert isinstance(events[-1], Error)
    assert events[-1].code == ErrorCode.BAD_INPUT and "MIDI" in events[-1].message


def test_cancel_stops_generation(tmp_path: Path, tiny_checkpoint: Path) -> None:
    async def main() -> list[object]:
        core = make_core(tmp_path / "work", _model(tiny_checkpoint))
        core.transport.set_tempo(120.0)  # 32 bars: about 130 notes to sample
        front = MemoryFrontend(core)
        request_id, queue = front.submit(
            "music-transformer", "continue", inputs={"primer": PRIMER}, options={"bars": 32}
        )
        events = []
        while True:
            event = await asyncio.wait_for(queue.get(), 30)
            events.append(event)
            if isinstance(event, OutputEvent):
                front.cancel(request_id)
            if isinstance(event, (Done, Error)):
                break
        await core.shutdown()
        return events

    events = asyncio.run(main())
    assert isinstance(events[-1], Error) and events[-1].code == ErrorCode.CANCELLED


def _file_notes(path: Path) -> tuple[list[Note], object]:
    import mido

    from host.smf_reader import read_smf

    assert mido.MidiFile(path).ticks_per_beat == 480
    read = read_smf(path, "x")
    return read.notes, read.timeline


def test_midi_file_output_keeps_the_primers_tempo_signature_and_timeline(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    """A 96 BPM 3/4 primer that ends mid-bar: the file is 96 BPM 3/4, the primer where it
    was, the continuation from the next bar line (beat 6), the same notes as streamed."""
    path = tmp_path / "work" / "primer.mid"
    path.parent.mkdir(parents=True)
    primer = [Note(60 + i, 80, 1.0 + i, 1.0) for i in range(4)]  # beats 1..5: ends mid-bar 2
    write_smf(path, primer, tempo=96.0, numerator=3, denominator=4)
    results = {}
    for include in (True, False):
        events = _request(
            tmp_path,
            tiny_checkpoint,
            inputs={"primer": str(path)},
            options={"bars": 2, "include_primer": include, "temperature": 0.5},
            seed=3,
        )
        streamed = _notes(events)
        files = [e.output for e in events if isinstance(e, OutputEvent)]
        midi = [o for o in files if isinstance(o, FileOutput)]
        assert [(o.name, o.media_type) for o in midi] == [("midi", "audio/midi")]
        notes, timeline = _file_notes(midi[0].path)
        assert (timeline.tempo, timeline.numerator, timeline.denominator) == (96.0, 3, 4)
        assert all(0 <= n.start < 6.0 for n in streamed)  # 2 bars of 3/4 from the bar line
        expected = sorted(
            [Note(n.pitch, n.velocity, 6.0 + n.start, n.duration) for n in streamed]
            + (primer if include else []),
            key=lambda n: (n.start, n.pitch),
        )
        assert [n.pitch for n in notes] == [n.pitch for n in expected]
        assert [n.start for n in notes] == pytest.approx([n.start for n in expected], abs=1 / 480)
        results[include] = streamed
    assert results[True] == results[False]  # the option changes the file, not the music


def test_notes_primer_file_follows_the_primer_on_the_transport_timeline(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    events = _request(
        tmp_path,
        tiny_checkpoint,
        signature=(3, 4),
        inputs={"primer": PRIMER},
        options={"bars": 1},
        seed=4,
    )
    midi = next(
        e.output for e in events if isinstance(e, OutputEvent) and isinstance(e.output, FileOutput)
    )
    notes, timeline = _file_notes(midi.path)
    assert (timeline.numerator, timeline.denominator) == (3, 4)
    assert [(n.pitch, n.start) for n in notes[:4]] == [(60, 0), (62, 1), (64, 2), (65, 3)]
    assert all(n.start >= 4.0 - 1e-6 for n in notes[4:])  # after the primer's end


def test_candidates_keep_the_consensus_pick_of_the_same_streams(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    """candidates=3 samples the same three streams as variations=3 (same seed) and sends the
    one consensus_pick chooses, named `notes`, once; its MIDI file holds those notes."""
    from plugins.music_transformer.continuations import consensus_pick

    options = {"bars": 4, "temperature": 2.0, "top_p": 1.0}
    three = _request(
        tmp_path / "three",
        tiny_checkpoint,
        inputs={"primer": PRIMER},
        options=options | {"variations": 3},
        seed=3,
    )
    rows = [_notes(three, f"notes-{i}") for i in (1, 2, 3)]
    assert len({tuple(r) for r in rows}) > 1  # the pick has something to choose between
    primer = PRIMER[0::4]
    keep = consensus_pick([[n.pitch for n in r] for r in rows], primer)
    picked = _request(
        tmp_path / "picked",
        tiny_checkpoint,
        inputs={"primer": PRIMER},
        options=options | {"candidates": 3},
        seed=3,
    )
    outputs = [e.output for e in picked if isinstance(e, OutputEvent)]
    notes_outputs = [o for o in outputs if isinstance(o, NotesOutput)]
    assert [(o.name, o.final) for o in notes_outputs] == [("notes", True)]
    assert _notes(picked) == sorted(rows[keep], key=lambda n: (n.start, n.pitch))
    assert [o.name for o in outputs if isinstance(o, FileOutput)] == ["midi"]
    two = _request(
        tmp_path / "two",
        tiny_checkpoint,
        inputs={"primer": PRIMER},
        options=options | {"variations": 2, "candidates": 2},
        seed=3,
    )
    sent = [e.output for e in two if isinstance(e, OutputEvent)]
    names = [(o.name, o.final) for o in sent if isinstance(o, NotesOutput)]
    assert names == [("notes-1", False), ("notes-2", True)]


def test_the_key_prior_is_in_the_schema_off_by_default() -> None:
    schema = MusicTransformerOptions.model_json_schema()["properties"]["key_strength"]
    assert (schema["default"], schema["minimum"], schema["maximum"]) == (0.0, 0.0, 4.0)
    assert "primer's pitch classes" in schema["description"]
