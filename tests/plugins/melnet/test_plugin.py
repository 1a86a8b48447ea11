"""The melnet model through the dawhost core: exact lengths, tempo from the transport or the
request, MIDI file input, progress per tier, cancel, and errors that name the problem."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import soundfile

from host import Note
from host.errors import ErrorCode
from host.memory import MemoryFrontend
from host.requests import Done, Error, OutputEvent, Progress
from host.smf import write_smf
from plugins.melnet.network import MelNet
from plugins.melnet.plugin import MelNetRenderer
from plugins.melnet.render import overall_progress, render
from tests.fakes import make_core, run_requests

NOTES = [60, 100, 0, 1, 64, 90, 1, 1, 67, 80, 2, 2]


def _model(checkpoint: Path) -> MelNetRenderer:
    model = MelNetRenderer()
    model.checkpoint = checkpoint
    return model


def _request(
    tmp_path: Path,
    checkpoint: Path,
    tempo: float = 120.0,
    signature: tuple[int, int] = (4, 4),
    **fields: object,
) -> list[object]:
    model = _model(checkpoint)
    return run_requests(
        tmp_path / "work", model, "render", fields, tempo=tempo, signature=signature
    )[0]


def _audio_frames(events: list[object]) -> int:
    assert isinstance(events[-1], Done), events[-1]
    outputs = [e for e in events if isinstance(e, OutputEvent)]
    assert len(outputs) == 1
    info = soundfile.info(str(outputs[0].output.path))
    assert info.samplerate == 16_000
    return info.frames


def test_length_is_exact_at_the_transport_tempo_and_signature(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    events = _request(
        tmp_path,
        tiny_checkpoint,
        tempo=137.0,
        signature=(3, 4),
        inputs={"notes": NOTES},
        options={"bars": 1, "instrument": "flute"},
        seed=3,
    )
    assert _audio_frames(events) == round(3 * 60 / 137 * 16_000)  # 3 beats at 137 BPM
    progress = [e for e in events if isinstance(e, Progress)]
    # the engine throttles progress to 20/s, so a fast tiny model may skip some tiers' events
    assert {e.message for e in progress} <= {
        "loading melnet",
        "tier 1/3",
        "tier 2/3",
        "tier 3/3",
        "vocoder",
        "done",
    }
    assert "vocoder" in {e.message for e in progress if e.fraction == 1.0}
    fractions = [e.fraction for e in progress]
    assert fractions == sorted(fractions)


def test_progress_covers_every_tier_then_the_vocoder(tiny_model: MelNet) -> None:
    reports: list[tuple[float, str]] = []
    rows = np.array([[60, 100, 0.0, 0.5]], np.float32)
    render(
        tiny_model,
        rows,
        8000,
        0,
        0.6,
        seed=0,
        progress=overall_progress(lambda f, m: reports.append((f, m))),
    )
    labels = [m for _, m in reports]
    assert labels.index("tier 1/3") < labels.index("tier 2/3") < labels.index("tier 3/3")
    assert labels[-1] == "vocoder" and reports[-1][0] == 1.0
    assert [f for f, _ in reports] == sorted(f for f, _ in reports)


def test_request_tempo_overrides_the_transport(tmp_path: Path, tiny_checkpoint: Path) -> None:
    events = _request(
        tmp_path,
        tiny_checkpoint,
        tempo=90.0,
        inputs={"notes": NOTES},
        options={"bars": 1, "tempo": 150},
        seed=1,
    )
    assert _audio_frames(events) == 25_600  # 4 beats at 150 BPM = 1.6 s


def test_midi_file_input(tmp_path: Path, tiny_checkpoint: Path) -> None:
    midi = tmp_path / "work" / "tune.mid"
    midi.parent.mkdir(parents=True)
    write_smf(midi, [Note(62, 90, 0.0, 1.5), Note(66, 90, 1.5, 0.5)], tempo=80.0)
    events = _request(
        tmp_path,
        tiny_checkpoint,
        tempo=200.0,
        inputs={"notes": str(midi)},
        options={"bars": 1},
        seed=2,
    )
    assert _audio_frames(events) == round(4 * 60 / 200 * 16_000)


def _error(events: list[object]) -> Error:
    assert isinstance(events[-1], Error), events[-1]
    return events[-1]


def test_bad_inputs_are_named(tmp_path: Path, tiny_checkpoint: Path) -> None:
    too_long = _error(
        _request(
            tmp_path, tiny_checkpoint, tempo=60.0, inputs={"notes": NOTES}, options={"bars": 16}
        )
    )
    assert too_long.code is ErrorCode.BAD_OPTION and too_long.field == "bars"
    assert "64.0 s" in too_long.message and "32 s" in too_long.message
    swarm = [v for i in range(4100) for v in (60 + i % 12, 90, i * 0.0009, 0.05)]
    crowded = _error(
        _request(tmp_path, tiny_checkpoint, inputs={"notes": swarm}, options={"bars": 1})
    )
    assert crowded.field == "notes" and "4100 notes" in crowded.message
    late = _error(
        _request(tmp_path, tiny_checkpoint, inputs={"notes": [60, 100, 40, 1]}, options={"bars": 2})
    )
    assert late.field == "notes" and "beat 40" in late.message
    bad_instrument = _error(
        _request(
            tmp_path, tiny_checkpoint, inputs={"notes": NOTES}, options={"instrument": "kazoo"}
        )
    )
    assert bad_instrument.code is ErrorCode.BAD_OPTION and "'piano'" in bad_instrument.message
    slow = _error(
        _request(tmp_path, tiny_checkpoint, inputs={"notes": NOTES}, options={"tempo": 5})
    )
    assert slow.field == "tempo"
    junk = tmp_path / "work" / "junk.mid"
    junk.write_bytes(b"not a midi file at all")
    broken = _error(_request(tmp_path, tiny_checkpoint, inputs={"notes": str(junk)}))
    assert broken.code is ErrorCode.BAD_INPUT and "junk.mid" in broken.message


def test_missing_checkpoint_is_a_model_error_not_a_crash(tmp_path: Path) -> None:
    error = _error(
        _request(tmp_path, tmp_path / "nope.pt", inputs={"notes": NOTES}, options={"bars": 1})
    )
    assert error.code is ErrorCode.MODEL_ERROR and "dawhost train melnet" in error.message


def test_cancel_stops_the_render(tmp_path: Path, tiny_checkpoint: Path) -> None:
    async def main() -> list[object]:
        core = make_core(tmp_path / "work", _model(tiny_checkpoint))
        frontend = MemoryFrontend(core)
        request_id, queue = frontend.submit(
            "melnet", "render", inputs={"notes": NOTES}, options={"bars": 8, "tempo": 60}
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
    assert _error(events).code is ErrorCode.CANCELLED
    assert not any(isinstance(e, OutputEvent) for e in events)
