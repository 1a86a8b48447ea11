"""Issue #20 item 4: a WebSocket client that never reads is cut off after a bounded queue
(bytes) and a close timeout, and its jobs are cancelled; after a duplicate_id reply, closing
the socket still cancels the original job."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.fakes import SlowModel
from tests.protocols.ws_client import next_json, ws_server


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def wait_until(condition: Any, seconds: float = 10.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return bool(condition())


def test_a_client_that_never_reads_is_cut_off_and_its_job_cancelled(tmp_path: Path) -> None:
    """The attack: ping with big pads and never read; the server said it closed the
    connection, but the close waited on a drain forever while ~167 MB queued up and new
    requests still ran."""
    slow_model = SlowModel()
    queue_bytes = 2 * 1024 * 1024

    async def main() -> dict[str, Any]:
        settings = {
            "sections": {"websocket": {"send_queue_bytes": queue_bytes, "close_timeout": 0.3}}
        }
        async with ws_server(tmp_path, slow_model, **settings) as (core, ws):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", ws.port))
            async with connect(
                f"ws://127.0.0.1:{ws.port}/", sock=sock, max_queue=1, close_timeout=0.2
            ) as reader_that_never_reads:
                await reader_that_never_reads.send(
                    json.dumps(
                        {
                            "type": "generate",
                            "id": "j",
                            "model": "fake-slow",
                            "options": {"seconds": 30},
                        }
                    )
                )
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, slow_model.wait_started, 10)
                client = next(iter(ws.clients.values()))
                pad = "x" * 200_000
                deadline = loop.time() + 30  # generous: a loaded machine drains slowly
                sent = 0
                while not client.sender.closed and sent < 400 and loop.time() < deadline:
                    try:  # up to 80 MB of pongs owed, until the server cuts the client
                        await asyncio.wait_for(
                            reader_that_never_reads.send(json.dumps({"type": "ping", "pad": pad})),
                            2,
                        )
                        sent += 1
                    except TimeoutError:
                        continue  # the server is busy; the queue still grows
                    except ConnectionClosed:
                        break
                peak = client.sender.peak_bytes
                cut = await wait_until(lambda: not ws.clients, 20)
                cancelled = await wait_until(lambda: not core.engine.active_jobs(), 20)
                steps = slow_model.steps
                await asyncio.sleep(0.1)
                async with connect(f"ws://127.0.0.1:{ws.port}/") as other:
                    await other.send(json.dumps({"type": "ping", "n": 1}))
                    alive = (await next_json(other, "pong"))["n"] == 1
                return {
                    "peak": peak,
                    "cut": cut,
                    "cancelled": cancelled,
                    "steps after": slow_model.steps - steps,
                    "alive": alive,
                    "running": len(core.engine.active_jobs()),
                }

    found = run(main())
    assert found["cut"] and found["cancelled"] and found["running"] == 0
    assert found["peak"] <= queue_bytes + 210_000  # the limit plus one message at most
    assert found["steps after"] <= 1 and found["alive"]


def test_closing_after_a_duplicate_id_still_cancels_the_original(tmp_path: Path) -> None:
    slow_model = SlowModel()

    async def main() -> tuple[str, int]:
        async with ws_server(tmp_path, slow_model) as (core, ws):
            async with connect(f"ws://127.0.0.1:{ws.port}/") as conn:
                request = {
                    "type": "generate",
                    "id": "same",
                    "model": "fake-slow",
                    "options": {"seconds": 30},
                }
                await conn.send(json.dumps(request))
                await next_json(conn, "accepted")
                await conn.send(json.dumps(request))
                duplicate = (await next_json(conn, "error"))["code"]
            await wait_until(lambda: not core.engine.active_jobs())
            return duplicate, len(core.engine.active_jobs())

    duplicate, running = run(main())
    assert duplicate == "duplicate_id" and running == 0
