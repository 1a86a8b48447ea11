"""Seeded fuzzing with the hostile datagrams of benchmarks.fuzz_osc (deep arrays, long
addresses, big blobs, nested bundles) on UDP and the OSCQuery WebSocket, and random JSON
shapes on the WebSocket: no handler crash (the autouse crash check), an answer to every bad
message, and the servers still answer afterwards."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from benchmarks.fuzz_osc import fuzz_datagram, hostile
from protocols.osc_wire import decode_packet
from tests.fakes import EchoContinuer, SineRenderer
from tests.protocols.osc_client import osc_client, osc_server
from tests.protocols.ws_client import next_json, ws_server


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_udp_fuzz_with_hostile_datagrams(tmp_path: Path) -> None:
    rng = random.Random(20)

    async def main() -> tuple[int, int, Any]:
        async with (
            osc_server(tmp_path, EchoContinuer(), SineRenderer(), model_queue_limit=64) as (_, osc),
            osc_client(osc.port) as me,
        ):
            sent = 0
            for i in range(3000):
                data = fuzz_datagram(rng)
                me.send_raw(data)
                sent += 1
                if i % 100 == 0:
                    await asyncio.sleep(0.005)
            for _ in range(300):
                if osc.datagrams_received >= sent:
                    break
                await asyncio.sleep(0.01)
            me.send("/dawhost/ping", "after")
            async with asyncio.timeout(10):
                while (pong := await me.expect("/dawhost/pong")).args != ("after",):
                    pass  # pongs of fuzzed pings
            return sent, osc.datagrams_received, pong.args

    sent, received, pong = run(main())
    assert received >= sent * 0.95 and pong == ("after",)


def test_oscquery_websocket_fuzz(tmp_path: Path) -> None:
    rng = random.Random(21)

    async def main() -> tuple[int, Any]:
        async with osc_server(tmp_path, EchoContinuer()) as (core, _):
            port = core.services["oscquery"].port
            async with connect(f"ws://127.0.0.1:{port}/", max_size=None) as ws:
                sent = 0
                while sent < 200:
                    frame = hostile(rng)
                    if len(frame) <= 64 * 1024:  # the OSCQuery WebSocket's message limit
                        await ws.send(frame)
                        sent += 1
                errors = replies = 0  # each attack gets one reply: an error, or the pong
                async with asyncio.timeout(10):
                    while replies < 200:
                        frame = await ws.recv()
                        if isinstance(frame, bytes):
                            replies += 1
                            errors += decode_packet(frame)[0].address == "/dawhost/error"
                await ws.send(b"/dawhost/ping\x00\x00\x00,s\x00\x00ok\x00\x00")
                async with asyncio.timeout(5):
                    while True:
                        frame = await ws.recv()
                        if isinstance(frame, bytes):
                            message = decode_packet(frame)[0]
                            if message.address == "/dawhost/pong":
                                return errors, message.args

    errors, pong = run(main())
    assert errors > 100 and pong == ("ok",)


def random_json(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return rng.choice([None, True, 0, -1, 2**70, 1.5, float("nan"), "", "x" * rng.randrange(9)])
    if roll < 0.6:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = [
        "type",
        "id",
        "model",
        "verb",
        "options",
        "inputs",
        "seed",
        "start",
        "binary",
        "name",
        "size",
        "tempo",
        "playing",
        "position",
        "signature",
        "repeats",
        "primer",
    ]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randrange(6))}


def random_ws_message(rng: random.Random) -> str | bytes:
    roll = rng.random()
    types = ["generate", "cancel", "describe", "transport", "ping", "upload", "nope"]
    if roll < 0.6:
        body = random_json(rng)
        if not isinstance(body, dict):
            body = {"value": body}
        body["type"] = rng.choice(types)
        if body["type"] == "generate" and rng.random() < 0.5:
            body.update(model="fake-echo", id=rng.randrange(50))
        return json.dumps(body)
    if roll < 0.75:
        return "[" * rng.randrange(1, 5000) + "]" * rng.randrange(0, 5000)  # deep JSON
    if roll < 0.9:
        return rng.randbytes(rng.randrange(1, 200))  # a binary frame with no upload
    return json.dumps(random_json(rng))[: rng.randrange(1, 40)]  # cut short


def test_websocket_fuzz(tmp_path: Path) -> None:
    rng = random.Random(22)

    async def main() -> tuple[int, int]:
        async with ws_server(tmp_path, EchoContinuer(), model_queue_limit=64) as (_, ws):
            async with connect(f"ws://127.0.0.1:{ws.port}/") as conn:
                answered = 0

                async def read_until_the_last_pong() -> None:
                    nonlocal answered
                    while True:
                        body = await next_json(conn, timeout=20)
                        answered += 1
                        if body.get("type") == "pong" and body.get("n") == "after":
                            return

                reader = asyncio.create_task(read_until_the_last_pong())
                for i in range(1500):
                    await conn.send(random_ws_message(rng))
                    if i % 20 == 0:  # a client faster than it reads is cut off (by design)
                        await asyncio.sleep(0.002)
                await conn.send(json.dumps({"type": "ping", "n": "after"}))
                await asyncio.wait_for(reader, 30)
            async with connect(f"ws://127.0.0.1:{ws.port}/") as fresh:
                await fresh.send(json.dumps({"type": "describe"}))
                models = len((await next_json(fresh, "models"))["models"])
            return answered, models

    answered, models = run(main())
    assert answered > 1000 and models == 1
