"""Helpers for WebSocket tests: a served front-end on a free port, and message collection."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection

from host.core import Core
from protocols.websocket import WebSocketFrontend
from tests.fakes import make_core


@contextlib.asynccontextmanager
async def ws_server(
    tmp_path: Path, *models: Any, **settings: Any
) -> AsyncIterator[tuple[Core, WebSocketFrontend]]:
    settings.setdefault("ws_port", 0)
    core = make_core(tmp_path / "work", *models, **settings)
    frontend = WebSocketFrontend()
    await frontend.start(core)
    try:
        yield core, frontend
    finally:
        await frontend.stop()
        await core.shutdown()


async def next_json(
    connection: ClientConnection, kind: str | None = None, timeout: float = 5.0
) -> dict[str, Any]:
    """The next JSON message (of `kind`, skipping others and binary frames)."""
    async with asyncio.timeout(timeout):
        while True:
            frame = await connection.recv()
            if isinstance(frame, str):
                body = json.loads(frame)
                if kind is None or body["type"] == kind:
                    return body


async def until_end(
    connection: ClientConnection, request_id: Any, timeout: float = 10.0
) -> list[dict[str, Any] | bytes]:
    """Messages and binary frames up to this request's done or error."""
    seen: list[dict[str, Any] | bytes] = []
    async with asyncio.timeout(timeout):
        while True:
            frame = await connection.recv()
            if isinstance(frame, bytes):
                seen.append(frame)
                continue
            body = json.loads(frame)
            if body.get("id") == request_id:
                seen.append(body)
                if body["type"] in ("done", "error"):
                    return seen
