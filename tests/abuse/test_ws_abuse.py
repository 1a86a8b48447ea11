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
from websockets.client import ClientProtocol
from websockets.protocol import State
from websockets.uri import parse_uri

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


class NeverReadingClient:
    """A WebSocket client on a blocking socket that, after the handshake, only ever writes.

    A `websockets` client cannot be trusted to stop reading: its background reader drains
    pongs into memory whenever it gets the loop, which made the attack (and the test) depend
    on the machine's load. Framing comes from websockets' sans-I/O protocol; reading is ours."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: fixed
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self.protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/"))
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while self.protocol.state is State.CONNECTING:  # read the 101 answer, nothing after
            data = self.sock.recv(1)
            if not data:
                raise ConnectionError("the server closed the connection during the handshake")
            self.protocol.receive_data(data)
        if self.protocol.handshake_exc is not None:
            raise self.protocol.handshake_exc

    def send_json(self, message: dict[str, Any]) -> bool:
        """Write one text frame; False once the server has cut the connection."""
        self.protocol.send_text(json.dumps(message).encode())
        try:
            self._flush()
        except (OSError, TimeoutError):  # reset, broken pipe, or a window that never reopens
            return False
        return True

    def _flush(self) -> None:
        self.sock.sendall(b"".join(self.protocol.data_to_send()))

    def close(self) -> None:
        self.sock.close()


def test_a_client_that_never_reads_is_cut_off_and_its_job_cancelled(tmp_path: Path) -> None:
    """The attack: ping with big pads and never read; the server said it closed the
    connection, but the close waited on a drain forever while ~167 MB queued up and new
    requests still ran."""
    slow_model = SlowModel()
    queue_bytes = 2 * 1024 * 1024
    pad = "x" * 200_000

    def attack(reader: NeverReadingClient, cut_off: Any) -> int:
        """Up to 80 MB of pongs owed, until the server cuts the client; the pings sent."""
        sent = 0
        while sent < 400 and not cut_off() and reader.send_json({"type": "ping", "pad": pad}):
            sent += 1
        return sent

    async def main() -> dict[str, Any]:
        settings = {
            "sections": {"websocket": {"send_queue_bytes": queue_bytes, "close_timeout": 0.3}}
        }
        async with ws_server(tmp_path, slow_model, **settings) as (core, ws):
            reader = await asyncio.to_thread(NeverReadingClient, ws.port)
            try:
                job = {"type": "generate", "id": "j", "model": "fake-slow"}
                reader.send_json({**job, "options": {"seconds": 30}})
                assert await asyncio.to_thread(slow_model.wait_started, 10)
                client = next(iter(ws.clients.values()))
                sent = await asyncio.to_thread(attack, reader, lambda: client.sender.closed)
                peak = client.sender.peak_bytes
                cut = await wait_until(lambda: not ws.clients, 20)
                cancelled = await wait_until(lambda: not core.engine.active_jobs(), 20)
                steps = await asyncio.to_thread(slow_model.settled_steps)
                await asyncio.sleep(0.3)
                async with connect(f"ws://127.0.0.1:{ws.port}/") as other:
                    await other.send(json.dumps({"type": "ping", "n": 1}))
                    alive = (await next_json(other, "pong"))["n"] == 1
            finally:
                reader.close()
            return {
                "sent": sent,
                "peak": peak,
                "cut": cut,
                "cancelled": cancelled,
                "steps after": slow_model.steps - steps,
                "alive": alive,
                "running": len(core.engine.active_jobs()),
            }

    found = run(main())
    assert found["sent"] < 400, found  # the server cut it long before 80 MB
    assert found["cut"] and found["cancelled"] and found["running"] == 0, found
    assert found["peak"] <= queue_bytes + 210_000  # the limit plus one message at most
    assert found["steps after"] == 0 and found["alive"]


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
