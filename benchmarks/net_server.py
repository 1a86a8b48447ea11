"""A dawhost server in a child process for the network benchmarks, with same-process
baselines: a bare UDP echo and a bare WebSocket echo on the same event loop.

Serving from another process keeps the benchmark client's work off the server's loop, as
with a real DAW. The server runs like `dawhost serve` (scheduler started, so the GIL switch
interval is lowered), with the fake echo model and a torch model that keeps a worker busy.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

DEFAULT_RCVBUF = 212_992  # Linux net.core.rmem_default: what a socket gets if nobody asks


class _UdpEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.transport.sendto(data, addr)


async def _ws_echo(connection: ServerConnection) -> None:
    async for message in connection:
        await connection.send(message)


def _serve(pipe: Connection, work: str) -> None:
    from benchmarks.bench_accepted import TorchBusyModel
    from protocols.osc import OscFrontend
    from protocols.websocket import WebSocketFrontend
    from tests.fakes import EchoContinuer, make_core

    async def main() -> None:
        loop = asyncio.get_running_loop()
        core = make_core(
            Path(work),
            EchoContinuer(),
            TorchBusyModel(),
            osc_port=0,
            ws_port=0,
            reply_port=9,
            model_queue_limit=64,
            sections={"oscquery": {"enabled": False}},
        )
        core.scheduler.start()  # as `dawhost serve` does
        osc, osc_default_buffer, ws = (
            OscFrontend(),
            OscFrontend(DEFAULT_RCVBUF),
            WebSocketFrontend(),
        )
        for frontend in (osc, osc_default_buffer, ws):
            await frontend.start(core)
        udp_echo, _ = await loop.create_datagram_endpoint(_UdpEcho, local_addr=("127.0.0.1", 0))
        ws_echo = await serve(_ws_echo, "127.0.0.1", 0)
        pipe.send(
            {
                "osc": osc.port,
                "osc_default_buffer": osc_default_buffer.port,
                "ws": ws.port,
                "udp_echo": udp_echo.get_extra_info("sockname")[1],
                "ws_echo": ws_echo.sockets[0].getsockname()[1],
                "osc_buffer_bytes": osc.receive_buffer,
                "default_buffer_bytes": osc_default_buffer.receive_buffer,
            }
        )
        await loop.run_in_executor(None, pipe.recv)  # until the benchmark says stop
        core.engine.cancel_all()
        for frontend in (ws, osc_default_buffer, osc):
            await frontend.stop()
        udp_echo.close()
        ws_echo.close()
        await core.shutdown()
        pipe.send("stopped")

    asyncio.run(main())


class ServerProcess:
    """`with ServerProcess() as ports:` runs the servers until the block ends."""

    def __enter__(self) -> dict[str, int]:
        self._tmp = tempfile.TemporaryDirectory()
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self._tmp.name), daemon=True)
        self._process.start()
        if not self._pipe.poll(60):
            raise RuntimeError("benchmark server did not start")
        ports: dict[str, int] = self._pipe.recv()
        return ports

    def __exit__(self, *exc: object) -> None:
        self._pipe.send("stop")
        self._pipe.poll(10)
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
        self._tmp.cleanup()
