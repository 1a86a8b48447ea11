"""Fuzzing: thousands of random and mutated datagrams and frames at the OSC, OSCQuery and
WebSocket servers; afterwards each must still answer correctly. Seeded, so failures repeat."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import string
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from benchmarks.fuzz_osc import mutate  # the long fuzz run's mutator, one copy
from protocols.osc_wire import OscDecodeError, decode_packet, encode_bundle, encode_message
from tests.fakes import EchoContinuer, SineRenderer
from tests.protocols.crash_check import no_handler_crashes  # noqa: F401
from tests.protocols.http_client import http_get
from tests.protocols.osc_client import osc_client, osc_server
from tests.protocols.ws_client import next_json, until_end, ws_server

SEED_MESSAGES = [
    encode_message("/dawhost/ping", [1, 2.5, "x"]),
    encode_message("/dawhost/fake-echo/continue", [7, "primer", 60, 100, 0, 1, "repeats", 2]),
    encode_message("/dawhost/fake-sine/render", ["r", "notes", 69, 100, 0.0, 1.0, "bars", 1]),
    encode_message("/dawhost/transport/tempo", [140.0]),
    encode_message("/dawhost/transport/signature", [3, 4]),
    encode_message("/dawhost/fake-echo/options/repeats", [3]),
    encode_message("/dawhost/cancel", [7]),
    encode_message("/dawhost/models", []),
    b"/dawhost/ping\x00\x00\x00,b\x00\x00\x00\x00\x00\x00",  # an empty blob to echo
    b"/dawhost/ping\x00\x00\x00,d\x00\x00\x7f\xef\xff\xff\xff\xff\xff\xff",  # 1.8e308
    encode_bundle(
        [encode_message("/dawhost/transport/play", []), encode_message("/dawhost/ping", [3])]
    ),
]


def random_datagram(rng: random.Random) -> bytes:
    if rng.random() < 0.3:
        return rng.randbytes(rng.randrange(0, 300))
    return mutate(rng, rng.choice(SEED_MESSAGES))


def test_decoder_raises_only_its_own_error() -> None:
    rng = random.Random(1)
    decoded = 0
    for _ in range(20_000):
        data = random_datagram(rng)
        try:
            decode_packet(data)
            decoded += 1
        except OscDecodeError:
            pass
    assert 0 < decoded < 20_000  # some mutations stay valid OSC, most do not


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Handler crashes are logged at ERROR; bad input only ever at WARNING."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_osc_server_survives_random_and_mutated_datagrams(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(2)
    count = 4000

    async def main() -> tuple[int, int, Any, Any]:
        async with (
            osc_server(
                tmp_path,
                EchoContinuer(),
                SineRenderer(),
                model_queue_limit=64,
                total_queue_limit=64,
            ) as (_, osc),
            osc_client(osc.port) as client,
        ):
            sent = 0
            for i in range(count):
                data = random_datagram(rng)
                sent += bool(data)  # asyncio does not send empty datagrams at all
                client.send_raw(data)
                if i % 200 == 0:
                    await asyncio.sleep(0.005)  # let replies drain into the client's buffer
            for _ in range(300):
                if osc.datagrams_received >= sent:
                    break
                await asyncio.sleep(0.01)
            lost = sent - osc.datagrams_received
            await asyncio.sleep(0.2)
            errors = 0
            while not client.queue.empty():
                errors += client.queue.get_nowait().address == "/dawhost/error"
            client.send("/dawhost/ping", "alive")
            pong = await client.expect("/dawhost/pong")
            client.send("/dawhost/fake-echo/continue", "after", "primer", 60, 100, 0, 1)
            replies = await client.until_end("after")
            return lost, errors, pong.args, replies[-1].address

    lost, errors, pong, last = run(main())
    assert lost == 0
    assert no_errors_logged(caplog) == []
    assert errors > count // 4  # bad packets are answered, not dropped silently
    assert pong == ("alive",) and last == "/dawhost/done"


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["int", "float", "str", "bool", "null"] + (["list", "dict"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.choice([0, -1, 1, 7, 2**31, 2**63, rng.randrange(-1000, 1000)])
    if kind == "float":
        return rng.choice([0.5, -1e300, 1e300, rng.uniform(-10, 10)])
    if kind == "str":
        return "".join(rng.choice(string.printable + "é🎹\x00") for _ in range(rng.randrange(9)))
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {
        rng.choice(["id", "model", "options", "inputs", "x", "primer", "tempo"]): random_json(
            rng, depth + 1
        )
        for _ in range(rng.randrange(5))
    }


def random_frame(rng: random.Random) -> str | bytes:
    roll = rng.random()
    if roll < 0.02:
        return "[" * rng.randrange(1000, 60_000)  # deep nesting
    if roll < 0.1:
        return rng.randbytes(rng.randrange(1, 100))
    if roll < 0.25:
        return "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randrange(40)))
    message: dict[str, Any] = {
        "type": rng.choice(
            ["generate", "cancel", "transport", "describe", "ping", "bogus", 3, None]
        )
    }
    if message["type"] == "generate":
        message.update(
            id=rng.choice(["a", 1, None, ""]),
            model=rng.choice(["fake-echo", "fake-sine", "nope", 5]),
            inputs=rng.choice(
                [{"primer": [[60, 100, 0, 1]]}, {"notes": random_json(rng)}, random_json(rng)]
            ),
            options=rng.choice([{}, {"repeats": random_json(rng)}, random_json(rng)]),
        )
    for _ in range(rng.randrange(3)):
        message[rng.choice(["id", "tempo", "playing", "position", "signature", "x"])] = random_json(
            rng
        )
    text = json.dumps(message)
    if rng.random() < 0.2:  # break the JSON
        cut = rng.randrange(len(text))
        text = text[:cut] + rng.choice(["", "}", "\\", '"', "\x00"]) + text[cut + 1 :]
    return text


def test_websocket_server_survives_random_and_mutated_frames(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(3)

    async def main() -> tuple[int, dict[str, Any], list[Any]]:
        settings = {"model_queue_limit": 64, "total_queue_limit": 64}
        async with ws_server(tmp_path, EchoContinuer(), SineRenderer(), **settings) as (_, ws):
            url = f"ws://127.0.0.1:{ws.port}/"
            answered = 0
            async with connect(url, max_size=None) as conn:
                for i in range(2000):
                    await conn.send(random_frame(rng))
                    if i % 25 == 24:  # read replies in batches, as they come
                        answered += await drain(conn)
                await asyncio.sleep(0.3)
                answered += await drain(conn)
                await conn.send(json.dumps({"type": "ping", "n": "alive"}))
                pong = await next_json(conn, "pong")
            for _ in range(30):  # raw garbage and broken handshakes on the same port
                reader, writer = await asyncio.open_connection("127.0.0.1", ws.port)
                writer.write(rng.randbytes(rng.randrange(1, 400)))
                await writer.drain()
                writer.close()
            async with connect(url) as conn:
                await conn.send(
                    json.dumps(
                        {
                            "type": "generate",
                            "id": "ok",
                            "model": "fake-echo",
                            "inputs": {"primer": [[60, 100, 0, 1]]},
                        }
                    )
                )
                events = await until_end(conn, "ok")
            return answered, pong, events

    answered, pong, events = run(main())
    assert answered > 1000  # nearly every frame gets a reply (an error or a result)
    assert pong["n"] == "alive"
    assert events[-1]["type"] == "done"
    assert no_errors_logged(caplog) == []


async def drain(conn: Any) -> int:
    count = 0
    try:
        while True:
            await asyncio.wait_for(conn.recv(), 0.002 if count else 0.02)
            count += 1
    except (TimeoutError, ConnectionClosed):
        return count


def test_oscquery_server_survives_random_requests(tmp_path: Path) -> None:
    rng = random.Random(4)
    alphabet = string.ascii_letters + string.digits + "/?%#.-_~"

    async def main() -> tuple[set[int], int, int]:
        async with osc_server(tmp_path) as (core, osc):
            port = core.services["oscquery"].port
            statuses = set()
            for _ in range(300):
                target = "/" + "".join(rng.choice(alphabet) for _ in range(rng.randrange(30)))
                statuses.add((await http_get(port, target))[0])
            answered = 0
            async with connect(f"ws://127.0.0.1:{port}/") as ws:
                for _ in range(300):
                    await ws.send(random_frame(rng))
                    answered += await drain(ws)
                await ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/dawhost/transport/tempo"}))
                answered += await drain(ws)
            final = (await http_get(port, "/dawhost/transport/tempo?VALUE"))[0]
            return statuses, final, answered

    statuses, final, answered = run(main())
    assert statuses <= {200, 204, 400, 404} and final == 200
    assert answered == 300  # every bad command got an ERROR reply; the LISTEN none


def run(coro: Any) -> Any:
    return asyncio.run(coro)
