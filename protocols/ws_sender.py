"""A bounded outgoing queue per WebSocket connection, so one slow client cannot stall others.

Each connection gets its own writer task. Messages that are superseded soon anyway (progress,
transport news) are dropped once the queue is half full (in messages or bytes); if even
essential messages no longer fit, the client is too slow to serve: its connection is closed
with code 1013, and cut outright if it does not take the close frame within a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

log = logging.getLogger(__name__)

DEFAULT_QUEUE_LIMIT = 256  # messages
DEFAULT_QUEUE_BYTES = 48 * 1024 * 1024  # room for one result file frame (32 MiB) and more
CLOSE_TIMEOUT = 2.0  # seconds a too-slow client gets to take the close frame; then it is cut
Message = str | bytes


class BoundedSender:
    """A connection's outgoing queue, bounded in messages and in bytes.

    A message always fits an empty queue (one large result frame must be sendable), so the
    bytes held for a client never exceed `byte_limit` plus one message."""

    def __init__(
        self,
        connection: ServerConnection,
        limit: int = DEFAULT_QUEUE_LIMIT,
        byte_limit: int = DEFAULT_QUEUE_BYTES,
        close_timeout: float = CLOSE_TIMEOUT,
    ) -> None:
        self.connection = connection
        self.limit = limit
        self.byte_limit = byte_limit
        self.close_timeout = close_timeout
        self.dropped = 0
        self.closed = False
        self.queued_bytes = 0
        self.peak_bytes = 0  # the most ever queued (a figure for tests and benchmarks)
        self._queue: asyncio.Queue[Message] = asyncio.Queue()
        self._closing: asyncio.Task[None] | None = None
        self._task = asyncio.create_task(self._run(), name="ws-sender")

    def send(self, message: Message, droppable: bool = False) -> bool:
        """Queue a message without waiting; False when it was dropped."""
        if self.closed:
            return False
        size = len(message)  # JSON is sent ASCII-only, so characters are bytes
        count = self._queue.qsize()
        if droppable and (
            count >= self.limit // 2 or self.queued_bytes + size > self.byte_limit // 2
        ):
            self.dropped += 1
            return False
        if count and (count >= self.limit or self.queued_bytes + size > self.byte_limit):
            self._overflow(count, size)
            return False
        self.queued_bytes += size
        self.peak_bytes = max(self.peak_bytes, self.queued_bytes)
        self._queue.put_nowait(message)
        return True

    def _overflow(self, count: int, size: int) -> None:
        self.closed = True
        log.warning(
            "closing WebSocket client %s: it reads too slowly (%d messages, %d bytes queued, "
            "%d more offered)",
            self.connection.remote_address,
            count,
            self.queued_bytes,
            size,
        )
        # Keep a reference: a task nobody holds may be garbage-collected mid-close.
        self._closing = asyncio.create_task(self._close_slow_client())

    async def _close_slow_client(self) -> None:
        """Stop writing, offer the close frame, and cut the TCP connection if the client does
        not take it in time (a client that reads nothing never would): the connection then
        ends, and with it the client's jobs."""
        self._task.cancel()
        self._drop_queue()
        try:
            async with asyncio.timeout(self.close_timeout):
                await self.connection.close(1013, "too slow: send queue overflow")
        except (TimeoutError, ConnectionClosed):
            pass
        finally:
            if self.connection.transport is not None and not self.connection.transport.is_closing():
                self.connection.transport.abort()

    def _drop_queue(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self.queued_bytes = 0

    async def _run(self) -> None:
        try:
            while True:
                message = await self._queue.get()
                await self.connection.send(message)
                self.queued_bytes -= len(message)
        except ConnectionClosed:
            self.closed = True
            self._drop_queue()

    async def aclose(self) -> None:
        self.closed = True
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await self._task
        self._drop_queue()
