"""An asyncio OSC test client: sends from its own UDP port, collects decoded replies."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from host.core import Core
from protocols.osc import OscFrontend
from protocols.osc_wire import OscMessage, decode_packet, encode_message
from protocols.oscquery import OscQueryServer
from tests.fakes import make_core


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, queue: asyncio.Queue[OscMessage]) -> None:
        self.queue = queue

    def datagram_received(self, data: bytes, addr: Any) -> None:
        for message in decode_packet(data):
            self.queue.put_nowait(message)


class OscClient:
    def __init__(self, server_port: int) -> None:
        self.server = ("127.0.0.1", server_port)
        self.queue: asyncio.Queue[OscMessage] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0

    async def open(self) -> OscClient:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self.queue), local_addr=("127.0.0.1", 0)
        )
        self.transport = transport  # type: ignore[assignment]
        self.port = transport.get_extra_info("sockname")[1]
        return self

    def close(self) -> None:
        if self.transport:
            self.transport.close()

    def send(self, address: str, *args: Any) -> None:
        self.send_raw(encode_message(address, list(args)))

    def send_raw(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.sendto(data, self.server)

    async def receive(self, timeout: float = 5.0) -> OscMessage:
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def expect(self, address: str, timeout: float = 5.0) -> OscMessage:
        """The next message with this address (others are skipped)."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.queue.get()
                if message.address == address:
                    return message

    async def until_end(self, request_id: Any, timeout: float = 10.0) -> list[OscMessage]:
        """Every reply for one request up to its /dawhost/done or /dawhost/error."""
        replies: list[OscMessage] = []
        async with asyncio.timeout(timeout):
            while True:
                message = await self.queue.get()
                if message.args and message.args[0] == request_id:
                    replies.append(message)
                    if message.address in ("/dawhost/done", "/dawhost/error"):
                        return replies


@contextlib.asynccontextmanager
async def osc_server(
    tmp_path: Path, *models: Any, reply_port: int = 0, **settings: Any
) -> AsyncIterator[tuple[Core, OscFrontend]]:
    """A core with the fake models and started OSC and OSCQuery front-ends on free loopback
    ports (the OSCQuery one is `core.services["oscquery"]`, absent when it is off)."""
    settings.setdefault("oscquery_port", 0)
    core = make_core(tmp_path, *models, osc_port=0, reply_port=reply_port or 9, **settings)
    frontend, oscquery = OscFrontend(), OscQueryServer()
    await frontend.start(core)
    await oscquery.start(core)
    try:
        yield core, frontend
    finally:
        await oscquery.stop()
        await frontend.stop()
        await core.shutdown()


@contextlib.asynccontextmanager
async def osc_client(port: int) -> AsyncIterator[OscClient]:
    client = await OscClient(port).open()
    try:
        yield client
    finally:
        client.close()
