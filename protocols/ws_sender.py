"""A bounded outgoing queue per WebSocket connection, so one slow client cannot stall others.

Each connection gets its own writer task. Messages that are superseded soon anyway (progress,
transport news) are dropped once the queue is half full; if even essential messages no longer
fit, the client is too slow to serve and its connection is closed with code 1013.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

log = logging.getLogger(__name__)

DEFAULT_QUEUE_LIMIT = 256
Message = str | bytes


class BoundedSender:
    def __init__(self, connection: ServerConnection, limit: int = DEFAULT_QUEUE_LIMIT) -> None:
        self.connection = connection
        self.limit = limit
        self.dropped = 0
        self.closed = False
        self._queue: asyncio.Queue[Message] = asyncio.Queue(limit)
        self._closing: asyncio.Task[None] | None = None
        self._task = asyncio.create_task(self._run(), name="ws-sender")

    def send(self, message: Message, droppable: bool = False) -> bool:
        """Queue a message without waiting; False when it was dropped."""
        if self.closed:
            return False
        if droppable and self._queue.qsize() >= self.limit // 2:
            self.dropped += 1
            return False
        try:
            self._queue.put_nowait(message)
            return True
        except asyncio.QueueFull:
            self.closed = True
            log.warning(
                "closing WebSocket client %s: it reads too slowly (%d messages queued)",
                self.connection.remote_address,
                self.limit,
            )
            # Keep a reference: a task nobody holds may be garbage-collected mid-close.
            self._closing = asyncio.create_task(
                self.connection.close(1013, "too slow: send queue overflow")
            )
            return False

    async def _run(self) -> None:
        try:
            while True:
                message = await self._queue.get()
                await self.connection.send(message)
        except ConnectionClosed:
            self.closed = True

    async def aclose(self) -> None:
        self.closed = True
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await self._task
