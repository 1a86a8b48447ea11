"""An in-memory front-end: drives the core without sockets (tests, `dawhost run`)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from host.core import Core
from host.requests import Done, Error, Event, Request


class MemoryFrontend:
    name = "memory"

    def __init__(self, core: Core, client: str = "memory") -> None:
        self.core = core
        self.client = client
        self._ids = itertools.count(1)

    def submit(
        self,
        model: str,
        verb: str,
        request_id: str | None = None,
        on_event: Any = None,
        **fields: Any,
    ) -> tuple[str, asyncio.Queue[Event]]:
        """Submit without waiting; events arrive on the returned queue (and `on_event`)."""
        request_id = request_id or str(next(self._ids))
        queue: asyncio.Queue[Event] = asyncio.Queue()

        def sink(event: Event) -> None:
            queue.put_nowait(event)
            if on_event:
                on_event(event)

        request = Request(request_id, model, verb, client=self.client, **fields)
        self.core.submit(request, sink)
        return request_id, queue

    async def request(
        self, model: str, verb: str, timeout: float = 30.0, **fields: Any
    ) -> list[Event]:
        """Submit and collect every event up to `done` or `error`."""
        _, queue = self.submit(model, verb, **fields)
        return await collect(queue, timeout)

    def cancel(self, request_id: str) -> bool:
        return self.core.cancel(self.client, request_id)


async def collect(queue: asyncio.Queue[Event], timeout: float = 30.0) -> list[Event]:
    events: list[Event] = []
    async with asyncio.timeout(timeout):
        while True:
            event = await queue.get()
            events.append(event)
            if isinstance(event, (Done, Error)):
                return events
