"""The WebSocket front-end end to end over real sockets: requests, binary results, errors,
broadcast, slow clients, cancel on disconnect, token and Origin checks."""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

import host
from host.smf import write_smf
from host.transport import TransportSource
from protocols import access
from protocols.ws_messages import split_binary_frame
from tests.fakes import SlowModel
from tests.protocols.crash_check import no_handler_crashes  # noqa: F401
from tests.protocols.ws_client import next_json, until_end, ws_server

PRIMER = [[60, 100, 0, 1], [64, 90, 1, 1]]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def url(frontend: Any, query: str = "") -> str:
    return f"ws://127.0.0.1:{frontend.port}/{query}"


def test_describe_lists_models_and_transport(tmp_path: Path) -> None:
    async def main() -> dict[str, Any]:
        async with ws_server(tmp_path) as (_, ws), connect(url(ws)) as conn:
            await conn.send(json.dumps({"type": "describe"}))
            return await next_json(conn, "models")

    body = run(main())
    ids = {m["id"] for m in body["models"]}
    assert ids == {"fake-echo", "fake-sine", "fake-slow", "fake-failing"}
    assert body["transport"]["tempo"] == 120.0 and body["transport"]["position"] == "1:1"


def test_generate_streams_events_in_order(tmp_path: Path) -> None:
    async def main() -> list[Any]:
        async with ws_server(tmp_path) as (_, ws), connect(url(ws)) as conn:
            await conn.send(
                json.dumps(
                    {
                        "type": "generate",
                        "id": "a",
                        "model": "fake-echo",
                        "inputs": {"primer": PRIMER},
                        "options": {"repeats": 2},
                        "seed": 3,
                    }
                )
            )
            return await until_end(conn, "a")

    events = run(main())
    kinds = [e["type"] for e in events]
    assert kinds[0] == "accepted" and kinds[-1] == "done" and "progress" in kinds
    notes = [n for e in events if e["type"] == "output" for n in e["notes"]]
    assert [n[2] for n in notes] == [0.0, 1.0, 2.0, 3.0]
    assert events[-1]["provenance"]["seed"] == 3 and events[-1]["outputs"] == 4


def test_audio_result_arrives_as_a_binary_frame_tied_to_the_request(tmp_path: Path) -> None:
    async def main() -> list[Any]:
        async with ws_server(tmp_path) as (_, ws), connect(url(ws)) as conn:
            await conn.send(
                json.dumps(
                    {
                        "type": "generate",
                        "id": 9,
                        "model": "fake-sine",
                        "inputs": {"notes": [[69, 100, 0, 1]]},
                    }
                )
            )
            return await until_end(conn, 9)

    events = run(main())
    output_at = next(
        i for i, e in enumerate(events) if isinstance(e, dict) and e["type"] == "output"
    )
    output = events[output_at]
    assert output["kind"] == "audio" and output["frames"] == 1
    header, data = split_binary_frame(events[output_at + 1])
    assert header["id"] == 9 and header["index"] == 0 and header["media_type"] == "audio/wav"
    assert data == Path(output["path"]).read_bytes() and data[:4] == b"RIFF"
    assert header["size"] == len(data)


def test_paths_only_when_binary_is_false(tmp_path: Path) -> None:
    async def main() -> list[Any]:
        async with ws_server(tmp_path) as (_, ws), connect(url(ws)) as conn:
            await conn.send(
                json.dumps(
                    {
                        "type": "generate",
                        "id": "p",
                        "model": "fake-sine",
                        "inputs": {"notes": [[69, 100, 0, 1]]},
                        "binary": False,
                    }
                )
            )
            return await until_end(conn, "p")

    events = run(main())
    assert not any(isinstance(e, bytes) for e in events)
    assert next(e for e in events if e["type"] == "output")["frames"] == 0


def test_bad_messages_get_errors_and_the_connection_stays_up(tmp_path: Path) -> None:
    frames: dict[str, str | bytes] = {
        "bad json": "{not json",
        "not an object": "[1, 2]",
        "unknown type": json.dumps({"type": "dance"}),
        "no type": json.dumps({"id": 1}),
        "no id": json.dumps({"type": "generate", "model": "fake-echo"}),
        "no model": json.dumps({"type": "generate", "id": "x"}),
        "unknown model": json.dumps({"type": "generate", "id": "x", "model": "nope"}),
        "unknown field": json.dumps(
            {"type": "generate", "id": "x", "model": "fake-echo", "colour": "red"}
        ),
        "bad option": json.dumps(
            {
                "type": "generate",
                "id": "x",
                "model": "fake-echo",
                "inputs": {"primer": PRIMER},
                "options": {"repeats": 0},
            }
        ),
        "bad notes": json.dumps(
            {
                "type": "generate",
                "id": "x",
                "model": "fake-echo",
                "inputs": {"primer": [[200, 100, 0, 1]]},
            }
        ),
        "bad start": json.dumps(
            {
                "type": "generate",
                "id": "x",
                "model": "fake-echo",
                "inputs": {"primer": PRIMER},
                "start": "zero",
            }
        ),
        "nan start": json.dumps(
            {
                "type": "generate",
                "id": "x",
                "model": "fake-echo",
                "inputs": {"primer": PRIMER},
                "start": "1:nan",
            }
        ),
        "infinite start": json.dumps(
            {
                "type": "generate",
                "id": "x",
                "model": "fake-echo",
                "inputs": {"primer": PRIMER},
                "start": "inf",
            }
        ),
        # JSON numbers have no size limit; Python's float() of these raises OverflowError
        "huge pitch": '{"type": "generate", "id": "x", "model": "fake-echo", '
        '"inputs": {"primer": [[1' + "0" * 400 + ", 100, 0, 1]]}}",
        "huge option": '{"type": "generate", "id": "x", "model": "fake-echo", '
        '"inputs": {"primer": [[60, 100, 0, 1]]}, '
        '"options": {"temperature": 1' + "0" * 400 + "}}",
        "cancel unknown": json.dumps({"type": "cancel", "id": "zzz"}),
        "bad tempo": json.dumps({"type": "transport", "tempo": 0}),
        "binary": b"\x00\x01\x02",
    }

    async def main() -> dict[str, dict[str, Any]]:
        async with ws_server(tmp_path) as (_, ws), connect(url(ws)) as conn:
            errors = {}
            for name, frame in frames.items():
                await conn.send(frame)
                errors[name] = await next_json(conn, "error")
            await conn.send(json.dumps({"type": "ping", "n": 1}))
            assert (await next_json(conn, "pong"))["n"] == 1
            return errors

    errors = run(main())
    assert "JSON" in errors["bad json"]["message"]
    assert (
        errors["unknown type"]["field"] == "type"
        and "describe" in errors["unknown type"]["message"]
    )
    assert errors["no id"]["field"] == "id" and errors["no model"]["field"] == "model"
    assert errors["unknown model"]["code"] == "unknown_model"
    assert errors["unknown field"]["field"] == "colour"
    assert errors["bad option"]["code"] == "bad_option" and errors["bad option"]["id"] == "x"
    assert errors["bad notes"]["code"] == "bad_input" and "pitch" in errors["bad notes"]["message"]
    assert errors["bad start"]["field"] == "start"
    assert errors["nan start"]["field"] == errors["infinite start"]["field"] == "start"
    assert (
        errors["huge pitch"]["code"] == "bad_input" and "pitch" in errors["huge pitch"]["message"]
    )
    assert errors["huge option"]["code"] == "bad_option"
    assert errors["huge option"]["field"] == "temperature"
    assert (
        errors["bad tempo"]["code"] == "bad_request" and "tempo" in errors["bad tempo"]["message"]
    )
    assert "binary" in errors["binary"]["message"]


def test_transport_changes_are_broadcast_to_every_client(tmp_path: Path) -> None:
    async def main() -> tuple[dict[str, Any], dict[str, Any], float]:
        async with ws_server(tmp_path) as (core, ws), connect(url(ws)) as a, connect(url(ws)) as b:
            await a.send(
                json.dumps(
                    {"type": "transport", "tempo": 90, "signature": [3, 4], "position": "2:1"}
                )
            )
            seen_b = await next_json(b, "transport")
            while seen_b["tempo"] != 90:
                seen_b = await next_json(b, "transport")
            core.transport.play(TransportSource.MIDI_CLOCK)  # changes from any source go out
            playing = await next_json(a, "transport")
            while not playing["playing"]:
                playing = await next_json(a, "transport")
            return seen_b, playing, core.transport.tempo

    seen_b, playing, tempo = run(main())
    assert tempo == 90.0 and seen_b["tempo"] == 90.0
    assert playing["numerator"] == 3 and playing["beat"] >= 3.0


def test_cancel_and_disconnect_stop_running_jobs(tmp_path: Path) -> None:
    slow = SlowModel()

    async def main() -> tuple[list[Any], int, int]:
        loop = asyncio.get_running_loop()
        async with ws_server(tmp_path, slow) as (core, ws):
            async with connect(url(ws)) as conn:
                await conn.send(
                    json.dumps(
                        {
                            "type": "generate",
                            "id": "s",
                            "model": "fake-slow",
                            "options": {"seconds": 30},
                        }
                    )
                )
                await loop.run_in_executor(None, slow.wait_started, 5)
                await conn.send(json.dumps({"type": "cancel", "id": "s"}))
                events = await until_end(conn, "s")
            slow.reset()
            async with connect(url(ws)) as conn:
                await conn.send(
                    json.dumps(
                        {
                            "type": "generate",
                            "id": "t",
                            "model": "fake-slow",
                            "options": {"seconds": 30},
                        }
                    )
                )
                await loop.run_in_executor(None, slow.wait_started, 5)
            for _ in range(100):  # the job ends once the server sees the close
                if not core.engine.active_jobs():
                    break
                await asyncio.sleep(0.02)
            steps = await asyncio.to_thread(slow.settled_steps)
            await asyncio.sleep(0.3)
            return events, len(core.engine.active_jobs()), slow.steps - steps

    events, active, steps_after = run(main())
    assert events[-1]["type"] == "error" and events[-1]["code"] == "cancelled"
    assert active == 0 and steps_after == 0


def test_a_slow_client_cannot_stall_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> tuple[float, bool]:
        settings = {"sections": {"websocket": {"send_queue": 8}}}
        async with ws_server(tmp_path, **settings) as (_, ws), connect(url(ws)) as fast:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", ws.port))
            async with connect(url(ws), sock=sock, max_queue=1, close_timeout=0.2) as slow:
                pad = "x" * 400_000
                for _ in range(40):  # 16 MB of pongs owed to a client that never reads
                    await slow.send(json.dumps({"type": "ping", "pad": pad}))
                loop = asyncio.get_running_loop()
                start = loop.time()
                for i in range(20):
                    await fast.send(json.dumps({"type": "ping", "i": i}))
                    assert (await next_json(fast, "pong"))["i"] == i
                elapsed = loop.time() - start
                for _ in range(200):
                    if "reads too slowly" in caplog.text:
                        break
                    await asyncio.sleep(0.02)
                return elapsed, [c.sender.closed for c in ws.clients.values()]

    elapsed, closed = run(main())
    assert elapsed < 2.0  # 20 round trips while the slow client's queue is full
    assert "reads too slowly" in caplog.text  # the slow one was cut off, not buffered forever
    assert closed.count(False) == 1  # the fast client is still served


async def served(address: str, **connect_args: Any) -> bool:
    """True when a connection is accepted and answers a ping; False when refused (401: no
    valid token, 403: a foreign origin or Host)."""
    try:
        async with connect(address, **connect_args) as conn:
            await conn.send(json.dumps({"type": "ping"}))
            await next_json(conn, "pong")
            return True
    except InvalidStatus as exc:
        assert exc.response.status_code in (401, 403)
        return False


@pytest.mark.parametrize(
    "query,headers,accepted",
    [
        ("", {}, False),
        ("?token=wrong", {}, False),
        ("?token=s3cret", {}, True),
        ("", {"Authorization": "Bearer s3cret"}, True),
        ("?token=s3cret", {"Origin": "http://evil.example"}, False),
        ("?token=s3cret", {"Origin": "http://allowed.example"}, True),
    ],
)
def test_token_and_origin_when_not_on_loopback(
    tmp_path: Path,
    query: str,
    headers: dict[str, str],
    accepted: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(access, "loopback_only", lambda bind: False)  # on 127.0.0.1 still

    async def main() -> bool:
        settings = {
            "sections": {"websocket": {"token": "s3cret", "origins": ["http://allowed.example"]}},
        }
        async with ws_server(tmp_path, **settings) as (_, ws):
            auth = {k: v for k, v in headers.items() if k != "Origin"}
            return await served(
                url(ws, query), additional_headers=auth, origin=headers.get("Origin")
            )

    assert run(main()) is accepted


@pytest.mark.parametrize(
    "origin,accepted",
    [(None, True), ("http://evil.example", False), ("http://allowed.example", True)],
)
def test_other_sites_pages_are_refused_on_loopback_too(
    tmp_path: Path, origin: str | None, accepted: bool
) -> None:
    async def main() -> bool:
        settings = {"sections": {"websocket": {"origins": ["http://allowed.example"]}}}
        async with ws_server(tmp_path, **settings) as (_, ws):
            return await served(url(ws), origin=origin)

    assert run(main()) is accepted


def test_the_servers_own_page_may_connect(tmp_path: Path) -> None:
    async def main() -> bool:
        async with ws_server(tmp_path) as (_, ws):
            return await served(url(ws), origin=f"http://127.0.0.1:{ws.port}")

    assert run(main()) is True


def test_oversized_messages_close_only_that_connection(tmp_path: Path) -> None:
    async def main() -> tuple[int | None, str]:
        settings = {"sections": {"websocket": {"max_message": 10_000}}}
        async with ws_server(tmp_path, **settings) as (_, ws), connect(url(ws)) as other:
            async with connect(url(ws)) as big:
                await big.send(json.dumps({"type": "ping", "pad": "x" * 20_000}))
                try:
                    await big.recv()
                except ConnectionClosed as exc:
                    code = exc.rcvd.code if exc.rcvd else None
            await other.send(json.dumps({"type": "ping", "n": "still"}))
            return code, (await next_json(other, "pong"))["n"]

    code, pong = run(main())
    assert code == 1009 and pong == "still"  # 1009: message too big


def test_a_token_is_generated_when_bound_beyond_loopback_without_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access, "loopback_only", lambda bind: False)  # on 127.0.0.1 still

    async def main() -> tuple[bool, bool]:
        async with ws_server(tmp_path) as (core, ws):
            token_file = core.work.root / access.TOKEN_FILE
            assert ws.token and token_file.read_text().strip() == ws.token
            assert token_file.stat().st_mode & 0o077 == 0  # only the user may read it
            assert ws.token[:4] in caplog.text and ws.token not in caplog.text
            try:
                async with connect(url(ws)):
                    without = True
            except InvalidStatus:
                without = False
            async with connect(url(ws, f"?token={ws.token}")) as conn:
                await conn.send(json.dumps({"type": "ping"}))
                with_token = (await next_json(conn, "pong"))["type"] == "pong"
            return without, with_token

    assert run(main()) == (False, True)


class StemsAndMidi(host.Model):
    """Splits nothing: yields two tiny stems and a MIDI file, to check frame naming."""

    model_id = "stems-and-midi"
    capabilities = frozenset({host.Capability.SEPARATE_STEMS})
    sample_rate = 8000

    def run(self, job: host.Job) -> Iterator[Any]:
        stems = {
            name: host.AudioOutput(8000, samples=np.full(80, level, dtype=np.float32))
            for name, level in (("vocals", 0.25), ("drums", 0.5))
        }
        yield host.StemsOutput(stems)
        path = job.output_path("phrase", ".mid")
        write_smf(path, [host.Note(60, 100, 0.0, 1.0)])
        yield host.FileOutput(path, "audio/midi", name="phrase")


def test_stems_and_midi_files_arrive_as_named_frames(tmp_path: Path) -> None:
    async def main() -> list[Any]:
        async with ws_server(tmp_path, StemsAndMidi()) as (_, ws), connect(url(ws)) as conn:
            await conn.send(json.dumps({"type": "generate", "id": "m", "model": "stems-and-midi"}))
            return await until_end(conn, "m")

    events = run(main())
    frames = [split_binary_frame(e) for e in events if isinstance(e, bytes)]
    outputs = [e for e in events if isinstance(e, dict) and e["type"] == "output"]
    assert [o["frames"] for o in outputs] == [2, 1]
    assert [(h["name"], h["index"], h["media_type"]) for h, _ in frames] == [
        ("vocals", 0, "audio/wav"),
        ("drums", 0, "audio/wav"),
        ("phrase", 1, "audio/midi"),
    ]
    vocals = soundfile.read(io.BytesIO(frames[0][1]))[0]
    drums = soundfile.read(io.BytesIO(frames[1][1]))[0]
    assert np.allclose(vocals, 0.25) and np.allclose(drums, 0.5)
    assert frames[2][1].startswith(b"MThd")


def test_uploaded_audio_can_be_used_as_an_input(tmp_path: Path) -> None:
    wav = tmp_path / "tone.wav"
    import numpy as np
    import soundfile

    soundfile.write(wav, np.zeros((4000, 2), dtype=np.float32), 8000)
    data = wav.read_bytes()

    async def main() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], Path]:
        async with ws_server(tmp_path) as (core, ws), connect(url(ws)) as conn:
            await conn.send(
                json.dumps({"type": "upload", "id": "u1", "name": "../tone.wav", "size": len(data)})
            )
            for start in range(0, len(data), 10_000):  # several frames, as large files arrive
                await conn.send(data[start : start + 10_000])
            uploaded = await next_json(conn, "uploaded")
            await conn.send(json.dumps({"type": "upload", "id": "u2", "name": "x.exe", "size": 3}))
            refused = await next_json(conn, "error")
            await conn.send(b"stray bytes")
            stray = await next_json(conn, "error")
            return uploaded, refused, stray, core.work.root

    uploaded, refused, stray, root = run(main())
    path = Path(uploaded["path"])
    assert path.read_bytes() == data and path.is_relative_to(root / "uploads")
    assert uploaded["id"] == "u1" and uploaded["size"] == len(data)
    assert refused["field"] == "name" and ".wav" in refused["message"]
    assert "upload" in stray["message"]


def test_an_upload_that_overruns_its_size_is_dropped(tmp_path: Path) -> None:
    async def main() -> tuple[dict[str, Any], list[Path]]:
        async with ws_server(tmp_path) as (core, ws), connect(url(ws)) as conn:
            await conn.send(json.dumps({"type": "upload", "id": 5, "name": "a.mid", "size": 4}))
            await conn.send(b"MThd plus too much")
            error = await next_json(conn, "error")
            return error, list((core.work.root / "uploads").iterdir())

    error, left = run(main())
    assert error["id"] == 5 and "more than the 4 bytes" in error["message"]
    assert left == []  # the partial file is removed


def test_uploads_beyond_the_quota_replace_the_oldest(tmp_path: Path) -> None:
    async def main() -> tuple[list[str], dict[str, Any]]:
        settings = {"sections": {"websocket": {"uploads_quota": 10}}}
        async with ws_server(tmp_path, **settings) as (core, ws), connect(url(ws)) as conn:
            for i in range(4):
                await conn.send(
                    json.dumps({"type": "upload", "id": f"u{i}", "name": "a.mid", "size": 4})
                )
                await conn.send(b"MThd")
                await next_json(conn, "uploaded")
            await conn.send(
                json.dumps({"type": "upload", "id": "big", "name": "a.mid", "size": 11})
            )
            too_big = await next_json(conn, "error")
            kept = sorted(p.name.split("-")[1] for p in (core.work.root / "uploads").iterdir())
            return kept, too_big

    kept, too_big = run(main())
    assert kept == ["u2", "u3"]  # 4-byte files under a 10-byte quota: the newest two stay
    assert too_big["field"] == "size" and "quota of 10" in too_big["message"]
