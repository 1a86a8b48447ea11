"""The analyze model inside dawhost: audio at any rate, mono or stereo, WAV/FLAC/OGG -> an
`analysis` data output; `apply_to_transport` sets the server's transport; bad input is a
BAD_INPUT error after which the server keeps serving; `dawhost run analyze` writes JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile

import host
from host import ErrorCode
from host.requests import Done, Error, OutputEvent
from plugins.analyze.plugin import BeatAnalyzer
from tests.fakes import run_requests
from tests.plugins.analyze.conftest import clicks


def _model(checkpoint: Path | None) -> BeatAnalyzer:
    model = BeatAnalyzer()
    model.checkpoint = checkpoint
    return model


def _outputs(events: list) -> dict:  # type: ignore[type-arg]
    return {e.output.name: e.output for e in events if isinstance(e, OutputEvent)}


def test_any_format_rate_and_channels_give_an_analysis(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    requests = []
    for suffix, rate, channels in ((".wav", 44_100, 2), (".flac", 22_050, 1), (".ogg", 48_000, 2)):
        path = tmp_path / f"clicks{suffix}"
        soundfile.write(path, clicks(rate, channels=channels), rate)
        requests.append({"inputs": {"audio": str(path)}})
    for events in run_requests(tmp_path, _model(tiny_checkpoint), "analyze", *requests):
        _check_analysis(events)


def _check_analysis(events: list) -> None:  # type: ignore[type-arg]
    assert isinstance(events[-1], Done), events[-1]
    outputs = _outputs(events)
    assert set(outputs) == {"analysis"}  # no transport change unless asked
    data = outputs["analysis"].data
    assert data["seconds"] == pytest.approx(6.5, abs=0.01)
    assert data["signature"] in ([3, 4], [4, 4], [6, 8])
    assert len(data["beats"]) == len(data["beats_seconds"])
    assert data["beats_seconds"] == sorted(data["beats_seconds"])
    assert all(0 <= t <= 6.5 for t in data["beats_seconds"])
    assert set(data["downbeats_seconds"]) <= set(data["beats_seconds"])
    json.dumps(data)  # it travels as JSON on every wire


def test_apply_to_transport_sets_tempo_and_signature(
    tmp_path: Path, tiny_checkpoint: Path, click_wav: Path
) -> None:
    import asyncio

    from host.memory import MemoryFrontend
    from tests.fakes import make_core

    async def main():  # type: ignore[no-untyped-def]
        core = make_core(tmp_path, _model(tiny_checkpoint))
        heard: list[host.TransportSnapshot] = []
        core.transport.subscribe(heard.append)
        try:
            events = await MemoryFrontend(core).request(
                "analyze",
                "analyze",
                inputs={"audio": str(click_wav)},
                options={"apply_to_transport": True, "meter": "3/4"},
            )
        finally:
            await core.shutdown()
        return events, core.transport.snapshot(), heard

    events, snapshot, heard = asyncio.run(main())
    assert isinstance(events[-1], Done), events[-1]
    outputs = _outputs(events)
    analysis, change = outputs["analysis"].data, outputs["transport"]
    assert isinstance(change, host.TransportChange) and change.data["applied"] is True
    assert analysis["signature"] == [3, 4] and change.data["signature"] == [3, 4]
    assert snapshot.tempo == pytest.approx(analysis["quarter_tempo"], abs=1e-3)
    assert (snapshot.numerator, snapshot.denominator) == (3, 4)
    assert heard and heard[-1].tempo == snapshot.tempo  # OSC and WS broadcast from this


def test_bad_input_is_named_and_the_server_keeps_serving(
    tmp_path: Path, tiny_checkpoint: Path, click_wav: Path
) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    bad, good = run_requests(
        tmp_path,
        _model(tiny_checkpoint),
        "analyze",
        {"inputs": {"audio": str(text)}},
        {"inputs": {"audio": str(click_wav)}},
    )
    assert isinstance(bad[-1], Error) and bad[-1].code is ErrorCode.BAD_INPUT
    assert "notes.wav" in bad[-1].message and "WAV, FLAC or OGG" in bad[-1].message
    assert isinstance(good[-1], Done)


def test_dawhost_run_analyze_writes_json(
    tmp_path: Path, tiny_checkpoint: Path, click_wav: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from host.cli_run import cmd_run

    model = _model(tiny_checkpoint)
    out = tmp_path / "out" / "clicks.json"
    code = cmd_run(
        [
            "analyze",
            "--audio",
            str(click_wav),
            "--out",
            str(out),
            "--work-dir",
            str(tmp_path / "w"),
        ],
        {"analyze": model},
    )
    assert code == 0, capsys.readouterr().err
    assert json.loads(out.read_text())["seconds"] == pytest.approx(6.5, abs=0.01)
    assert (
        cmd_run(
            ["analyze", "--audio", str(click_wav), "--out", str(tmp_path / "x.mid")],
            {"analyze": model},
        )
        == 2
    )
    assert "give a .json file" in capsys.readouterr().err
