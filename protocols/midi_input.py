"""Reading `dawhost in` without running Python inside JACK's real-time thread.

python-rtmidi calls a Python callback from the JACK process thread: every message would wait
for the GIL there, and a busy model thread would then stall the whole JACK graph (xruns for
every client). So no callback is installed: rtmidi queues messages in C++, each with the time
it arrived (delta times from JACK's clock), and `InputPump` polls that queue from an ordinary
thread. `ArrivalClock` turns the deltas back into `time.monotonic()` arrival times, so the
polling delay does not reach the tempo estimate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import mido

log = logging.getLogger(__name__)

POLL_SECONDS = 0.001
# The offset between rtmidi's clock and ours is taken from the earliest-looking message; it may
# creep up this fast (seconds per second) in case the two clocks drift apart.
OFFSET_CREEP = 20e-6


class RawInput(Protocol):
    def get_message(self) -> tuple[list[int], float] | None: ...


class ArrivalClock:
    """rtmidi delta times -> monotonic arrival times.

    A message is always polled after it arrived, so `polled - elapsed` is an upper bound on the
    clock offset; the smallest bound seen (allowed to creep up slowly) is the estimate.
    """

    def __init__(self) -> None:
        self._elapsed = 0.0
        self._offset: float | None = None
        self._offset_at = 0.0

    def arrival(self, delta: float, polled: float) -> float:
        self._elapsed += max(0.0, delta)
        bound = polled - self._elapsed
        if self._offset is None or bound < self._offset:
            self._offset = bound
        else:
            creep = (self._elapsed - self._offset_at) * OFFSET_CREEP
            self._offset = min(bound, self._offset + creep)
        self._offset_at = self._elapsed
        return self._offset + self._elapsed


class InputPump:
    """Polls a raw rtmidi input on its own thread; calls `handler(message, arrival_time)`.

    The port is only touched under `_port_lock`, and never again once `stop()` has returned:
    the caller deletes the rtmidi object next, and python-rtmidi crashes the whole process
    (SIGSEGV) if a deleted port is polled. A join with a timeout could not promise that.
    """

    def __init__(
        self, port: RawInput, handler: Callable[[mido.Message, float], None], name: str = ""
    ) -> None:
        self.port = port
        self.handler = handler
        self.clock = ArrivalClock()
        self.malformed = 0
        self._stop = threading.Event()
        self._port_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"midi-in {name}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Return only when the thread can no longer reach the port."""
        self._stop.set()
        with self._port_lock:  # waits out a poll in progress; later polls see the flag
            pass
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)  # tidiness only: the port is already safe

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for data, arrival in self._poll():
                    self._handle(data, arrival)
            except Exception as exc:  # the pump must outlive anything a port does
                log.warning("MIDI input poll failed: %r", exc)
            self._stop.wait(POLL_SECONDS)

    def _poll(self) -> list[tuple[list[int], float]]:
        """Everything queued, with arrival times; nothing once stopped."""
        polled: list[tuple[list[int], float]] = []
        with self._port_lock:
            if self._stop.is_set():
                return polled
            while (item := self.port.get_message()) is not None:
                data, delta = item
                polled.append((data, self.clock.arrival(delta, time.monotonic())))
        return polled

    def _handle(self, data: list[int], arrival: float) -> None:
        try:
            message = mido.Message.from_bytes(data)
        except (ValueError, TypeError, IndexError):
            self.malformed += 1  # running-status garbage, stray data bytes, cut messages
            if self.malformed in (1, 100, 10_000):
                log.warning("%d malformed MIDI messages ignored (last: %r)", self.malformed, data)
            return
        self.handler(message, arrival)
