"""vocal-tts through the dawhost core: verbs, exact WAV length at the transport tempo, the
syllable timings output, MIDI file melodies, cancel, and errors as events."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import soundfile

from host import Note
from host.errors import ErrorCode
from host.memory import MemoryFrontend
from host.requests import Done, Error, OutputEvent, Progress
from host.smf import write_smf
from plugins.vocal_tts.checkpoint import Bundle
from plugins.vocal_tts.plugin import VocalLine
from tests.fakes import make_core, run_requests

MELODY = [67, 100, 0, 1, 64, 100, 1, 1, 64, 100, 2, 2]  # "hot cross buns"-like


def _model(checkpoint: Path) -> VocalLine:
    model = VocalLine()
    model.checkpoint = checkpoint
    return model


def _request(
    tmp_path: Path,
    checkpoint: Path,
    verb: str,
    tempo: float = 120.0,
    signature: tuple[int, int] = (4, 4),
    **fields: object,
) -> list[object]:
    model = _model(checkpoint)
    return run_requests(tmp_path / "work", model, verb, fields, tempo=tempo, signature=signature)[0]


def _outputs(events: list[object]) -> dict[str, object]:
    assert isinstance(events[-1], Done), events[-1]
    return {e.output.name: e.output for e in events if isinstance(e, OutputEvent)}


def test_sing_gives_a_wav_of_exactly_the_bars_and_the_syllable_timings(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    events = _request(
        tmp_path,
        tiny_checkpoint,
        "sing",
        tempo=90.0,
        signature=(3, 4),
        inputs={"lyrics": "hot cross buns", "notes": MELODY},
        options={"bars": 2},
    )
    outputs = _outputs(events)
    info = soundfile.info(str(outputs["vocal"].path))  # type: ignore[attr-defined]
    assert info.samplerate == 16_000
    assert info.frames == round(2 * 3 * 60 / 90 * 16_000)
    data = outputs["syllables"].data  # type: ignore[attr-defined]
    assert data["tempo"] == 90.0 and data["samples"] == info.frames
    assert [s["word"] for s in data["syllables"]] == ["hot", "cross", "buns"]
    assert [s["start_seconds"] for s in data["syllables"]] == [0.0, 0.6667, 1.3333]
    assert [s["pitch"] for s in data["syllables"]] == [67, 64, 64]
    progress = [e for e in events if isinstance(e, Progress)]
    fractions = [e.fraction for e in progress]  # type: ignore[attr-defined]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # The engine drops progress closer than 50 ms apart, so only some stage names arrive.
    assert {e.message for e in progress} & {"acoustic model", "vocoder", "writing"}  # type: ignore[attr-defined]


def test_speak_uses_the_tempo_option_and_a_midi_file_melody(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    write_smf(work / "tune.mid", [Note(60, 90, 0.0, 0.5), Note(62, 90, 2.0, 0.5)], tempo=75)
    events = _request(
        tmp_path,
        tiny_checkpoint,
        "speak",
        inputs={"lyrics": "hello", "notes": str(work / "tune.mid")},
        options={"bars": 1, "tempo": 150.0},
    )
    outputs = _outputs(events)
    info = soundfile.info(str(outputs["vocal"].path))  # type: ignore[attr-defined]
    assert info.frames == round(4 * 60 / 150 * 16_000)
    timings = outputs["syllables"].data["syllables"]  # type: ignore[attr-defined]
    assert [s["start_beat"] for s in timings] == [0.0, 2.0]  # hel-lo on the two notes
    assert all(s["pitch"] is None for s in timings)  # speaking keeps natural pitch


def test_bad_requests_become_error_events_naming_the_field(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    cases = {
        "no lyrics": ("sing", {"inputs": {"lyrics": " ", "notes": MELODY}}),
        "too many syllables": (
            "sing",
            {"inputs": {"lyrics": "one two three four", "notes": MELODY}},
        ),
        "no melody": ("sing", {"inputs": {"lyrics": "la la"}}),
        "bad voice": ("speak", {"inputs": {"lyrics": "la"}, "options": {"voice": "robot"}}),
        "empty notes": ("sing", {"inputs": {"lyrics": "la", "notes": []}}),
        "bad file": ("sing", {"inputs": {"lyrics": "la", "notes": str(tmp_path / "x.mid")}}),
    }
    for name, (verb, fields) in cases.items():
        events = _request(tmp_path, tiny_checkpoint, verb, **fields)
        error = events[-1]
        assert isinstance(error, Error), (name, error)
        assert error.code in (
            ErrorCode.BAD_INPUT,
            ErrorCode.BAD_OPTION,
            ErrorCode.PATH_NOT_ALLOWED,
        ), (name, error)
        assert error.field in ("lyrics", "notes", "voice"), (name, error)


def test_a_missing_checkpoint_is_a_model_error_that_says_how_to_train(tmp_path: Path) -> None:
    events = _request(
        tmp_path, tmp_path / "none.pt", "sing", inputs={"lyrics": "hot cross buns", "notes": MELODY}
    )
    error = events[-1]
    assert isinstance(error, Error)
    assert error.code is ErrorCode.MODEL_ERROR and "dawhost train vocal-tts" in error.message


def test_cancel_stops_the_job_at_the_next_stage(tmp_path: Path, tiny_checkpoint: Path) -> None:
    async def main() -> list[object]:
        core = make_core(tmp_path / "work", _model(tiny_checkpoint))
        frontend = MemoryFrontend(core)
        request_id, queue = frontend.submit(
            "vocal-tts", "speak", inputs={"lyrics": "la " * 40}, options={"bars": 8}
        )
        events: list[object] = []
        while True:
            event = await asyncio.wait_for(queue.get(), 60)
            events.append(event)
            if isinstance(event, Progress):
                frontend.cancel(request_id)
            if isinstance(event, (Done, Error)):
                break
        await core.shutdown()
        return events

    events = asyncio.run(main())
    error = events[-1]
    assert isinstance(error, Error) and error.code is ErrorCode.CANCELLED
    assert not any(isinstance(e, OutputEvent) for e in events)


def test_the_option_lists_the_shipped_voices_and_a_checkpoint_refuses_voices_it_never_learned(
    tmp_path: Path, tiny_bundle: Bundle
) -> None:
    """The `voice` option lists the shipped checkpoint's voices; a checkpoint that never learned
    one of them (here: female only) names the voices it has when asked for another."""
    from plugins.vocal_tts.checkpoint import save
    from plugins.vocal_tts.plugin import VocalLineOptions
    from plugins.vocal_tts.voices import SHIPPED_VOICES

    schema = VocalLineOptions.model_json_schema()["properties"]["voice"]
    assert schema["enum"] == list(SHIPPED_VOICES) and "male" in schema["enum"]
    narrow = tmp_path / "narrow.pt"
    save(dataclasses.replace(tiny_bundle, stats={"voices": ["female"]}), narrow)
    refused = _request(
        tmp_path, narrow, "speak", inputs={"lyrics": "hello"}, options={"voice": "male"}
    )[-1]
    assert isinstance(refused, Error) and refused.code is ErrorCode.BAD_OPTION
    assert refused.field == "voice" and "which has female;" in refused.message
    spoken = _outputs(
        _request(tmp_path, narrow, "speak", inputs={"lyrics": "hello"}, options={"voice": "female"})
    )
    assert "vocal" in spoken
