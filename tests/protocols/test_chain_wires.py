"""transcribe -> continue as one request over the real sockets: OSC (`primer_from`) and
WebSocket (`"primer": {"from": ...}`), with progress, the step's outputs, errors naming the step,
and cancel across the chain."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from tests.fakes import EchoContinuer, FakeTranscriber, write_tones
from tests.protocols.osc_client import osc_client, osc_server
from tests.protocols.ws_client import until_end, ws_server

MODELS = (EchoContinuer(), FakeTranscriber())


def test_osc_chain_replies_as_one_request(tmp_path: Path) -> None:
    wav = write_tones(tmp_path / "hum.wav", [62, 65, None, 69])

    async def main() -> list[Any]:
        async with osc_server(tmp_path, *MODELS) as (_, osc), osc_client(osc.port) as client:
            client.send(
                "/dawhost/fake-echo/continue",
                4,
                "primer_from",
                "fake-transcribe",
                "audio",
                str(wav),
                "repeats",
                2,
            )
            return await client.until_end(4, timeout=60)

    replies = asyncio.run(main())
    addresses = [m.address for m in replies]
    assert addresses[0] == "/dawhost/accepted" and replies[0].args == (4, "fake-echo", 0)
    assert addresses.count("/dawhost/accepted") == 1 and addresses[-1] == "/dawhost/done"
    outputs = [m.args[1:3] for m in replies if m.address == "/dawhost/output"]
    assert outputs[:2] == [("file", "fake-transcribe.midi"), ("data", "fake-transcribe.notes")]
    heard = json.loads(
        next(m.args[3] for m in replies if m.args[2:3] == ("fake-transcribe.notes",))
    )
    assert [n[0] for n in heard["notes"]] == [62, 65, 69]
    # /dawhost/note carries only the continuation: the phrase heard, echoed twice
    notes = [m.args[1] for m in replies if m.address == "/dawhost/note"]
    assert notes == [62, 65, 69, 62, 65, 69]
    assert any(
        m.args[2].startswith("fake-transcribe: ")
        for m in replies
        if m.address == "/dawhost/progress"
    )


def test_osc_chain_errors_name_the_step_and_cancel_stops_it(tmp_path: Path) -> None:
    wav = write_tones(tmp_path / "hum.wav", [62, 65])

    async def main() -> tuple[list[Any], list[Any], list[Any]]:
        async with osc_server(tmp_path, *MODELS) as (_, osc), osc_client(osc.port) as client:
            client.send(
                "/dawhost/fake-echo/continue", 1, "primer_from", "fake-transcribe", "audio", 5
            )
            bad = await client.until_end(1, timeout=30)
            client.send(
                "/dawhost/fake-echo/continue",
                2,
                "primer_from",
                "fake-transcribe",
                "audio",
                str(wav),
                "seconds",
                30,
            )
            started = []
            async with asyncio.timeout(30):
                while True:
                    message = await client.receive(timeout=30)
                    started.append(message)
                    if message.address == "/dawhost/progress" and "wait" in message.args[2]:
                        break
            client.send("/dawhost/cancel", 2)
            cancelled = await client.until_end(2, timeout=30)
            client.send("/dawhost/ping", "still")
            pong = [await client.expect("/dawhost/pong", timeout=10)]
            return bad, started + cancelled, pong

    bad, cancelled, pong = asyncio.run(main())
    assert bad[-1].address == "/dawhost/error"
    _, code, message, field = bad[-1].args
    assert code == "bad_input" and field == "fake-transcribe.audio"
    assert message.startswith("step 'fake-transcribe' (making 'primer'): ")
    assert cancelled[-1].address == "/dawhost/error" and cancelled[-1].args[1] == "cancelled"
    assert "/dawhost/note" not in [m.address for m in cancelled]
    assert pong[0].args == ("still",)


def test_websocket_chain_sends_the_step_files_and_the_answer(tmp_path: Path) -> None:
    wav = write_tones(tmp_path / "hum.wav", [60, 67])

    async def main() -> list[Any]:
        async with (
            ws_server(tmp_path, *MODELS) as (_, ws),
            connect(f"ws://127.0.0.1:{ws.port}/") as conn,
        ):
            message = {
                "type": "generate",
                "id": "c1",
                "model": "fake-echo",
                "inputs": {"primer": {"from": "fake-transcribe", "inputs": {"audio": str(wav)}}},
            }
            await conn.send(json.dumps(message))
            first = await until_end(conn, "c1", timeout=60)
            message = {**message, "id": "c2", "inputs": {"primer": {"from": "nope"}}}
            await conn.send(json.dumps(message))
            return first + await until_end(conn, "c2", timeout=30)

    seen = asyncio.run(main())
    bodies = [m for m in seen if isinstance(m, dict)]
    frames = [m for m in seen if isinstance(m, bytes)]
    kinds = [(b["type"], b.get("name")) for b in bodies if b["type"] in ("output", "done", "error")]
    assert kinds[:2] == [("output", "fake-transcribe.midi"), ("output", "fake-transcribe.notes")]
    assert ("done", None) in kinds and frames  # the step's MIDI file travelled as bytes
    notes = [n[0] for b in bodies if b.get("kind") == "notes" for n in b["notes"]]
    assert notes == [60, 67]
    error = bodies[-1]
    assert error["type"] == "error" and error["code"] == "unknown_model"
    assert "step 'nope'" in error["message"]
