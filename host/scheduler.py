"""Fires callbacks at exact times or musical positions, on a dedicated thread.

asyncio's `call_at` is up to ~1 ms late at p99 on these machines. This thread sleeps until just
before the deadline and spins for the last stretch. Events placed at a beat are re-timed when
the tempo or position changes, and held while the transport is stopped. Callbacks run on the
scheduler thread and must be quick (send a MIDI message, post to the loop).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from host.transport import Transport, TransportSnapshot

log = logging.getLogger(__name__)

# While a model job runs Python code on another thread, this thread needs the GIL back quickly:
# the default 5 ms switch interval would make every deadline up to 5 ms late.
SWITCH_INTERVAL = 0.0002


@dataclass(order=True)
class Scheduled:
    due: float
    order: int
    callback: Callable[[], None] = field(compare=False)
    beat: float | None = field(default=None, compare=False)
    offset: float = field(default=0.0, compare=False)  # seconds added to the beat's time
    cancelled: bool = field(default=False, compare=False)
    fired_at: float | None = field(default=None, compare=False)


def _raise_priority() -> None:
    """Ask the OS for real-time priority for this thread, so other processes cannot delay a
    deadline. Needs root or CAP_SYS_NICE (or an rtprio limit); without it, nothing changes."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))  # 0: the calling thread
    except (AttributeError, PermissionError, OSError):
        log.debug("scheduler runs at normal priority (no permission for SCHED_FIFO)")


class Scheduler:
    def __init__(self, transport: Transport, spin_seconds: float = 0.0015) -> None:
        self.transport = transport
        self.spin_seconds = spin_seconds
        self._heap: list[Scheduled] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._running = False
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        self._running = True
        self._unsubscribe = self.transport.subscribe(self._retime)
        self._thread = threading.Thread(target=self._loop, name="dawhost-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        with self._wake:
            self._running = False
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def at_time(self, when: float, callback: Callable[[], None]) -> Scheduled:
        """Run `callback` at monotonic time `when`."""
        item = Scheduled(when, next(self._order), callback)
        return self._push(item)

    def at_beat(
        self, beat: float, callback: Callable[[], None], offset_seconds: float = 0.0
    ) -> Scheduled:
        """Run `callback` when the transport reaches `beat`, following tempo changes.
        `offset_seconds` shifts it in time, not in beats (latency compensation: -0.005 sends
        5 ms early whatever the tempo becomes)."""
        due = self._due(beat) + offset_seconds
        item = Scheduled(due, next(self._order), callback, beat=beat, offset=offset_seconds)
        return self._push(item)

    def cancel(self, item: Scheduled) -> None:
        item.cancelled = True

    def pending(self) -> int:
        with self._wake:
            return sum(1 for item in self._heap if not item.cancelled)

    def _due(self, beat: float) -> float:
        return self.transport.time_at(beat) if self.transport.playing else math.inf

    def _push(self, item: Scheduled) -> Scheduled:
        if self._thread is None:
            self.start()
        with self._wake:
            heapq.heappush(self._heap, item)
            self._wake.notify()
        return item

    def _retime(self, _snapshot: TransportSnapshot) -> None:
        with self._wake:
            for item in self._heap:
                if item.beat is not None:
                    item.due = self._due(item.beat) + item.offset
            heapq.heapify(self._heap)
            self._wake.notify()

    def _loop(self) -> None:
        _raise_priority()
        while True:
            with self._wake:
                while self._running and (not self._heap or self._heap[0].cancelled):
                    if self._heap:
                        heapq.heappop(self._heap)
                    else:
                        self._wake.wait()
                if not self._running:
                    return
                head = self._heap[0]
                wait = head.due - time.monotonic() - self.spin_seconds
                if wait > 0:
                    self._wake.wait(timeout=min(wait, 1.0))
                    continue  # re-check: the head may have changed or been re-timed
            # Spin the last stretch outside the lock; stop if a re-time moved the head away.
            while 0 < head.due - time.monotonic() <= 2 * self.spin_seconds:
                pass
            with self._wake:
                stale = not self._heap or self._heap[0] is not head or head.cancelled
                if stale or head.due > time.monotonic():
                    continue
                heapq.heappop(self._heap)
            head.fired_at = time.monotonic()
            try:
                head.callback()
            except Exception:
                log.exception("scheduled callback failed")
