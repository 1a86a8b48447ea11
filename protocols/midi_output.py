"""Notes out of dawhost's MIDI output, on the transport grid, with no stuck notes ever.

`NoteSender` owns the output port and knows which notes are sounding: every note-on it sends is
matched by exactly one note-off, whether the note ends normally, is cut by a retrigger of the
same pitch, or is silenced by `panic()` (stop, cancel, model error, shutdown). `Playback` is one
response being played: its notes are placed on the scheduler thread at beats (so they follow
tempo changes) and can all be withdrawn at once.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import mido

from host.outputs import Note
from host.scheduler import Scheduled, Scheduler
from protocols.ratelimit import LogLimiter

log = logging.getLogger(__name__)

ALL_NOTES_OFF = 123


class OutputPort(Protocol):
    def send(self, msg: mido.Message) -> None: ...


@dataclass(frozen=True)
class SentMessage:
    """A record of what was sent and when it was meant to go (for benchmarks and tests)."""

    message: mido.Message
    intended: float | None  # monotonic time the grid asked for (None: immediate)
    sent: float


class NoteSender:
    """Thread-safe: the scheduler thread plays notes while the loop may panic."""

    def __init__(self, port: OutputPort, clock: Callable[[], float], record: bool = False) -> None:
        self.port = port
        self.clock = clock
        self._lock = threading.Lock()
        self._owner: dict[tuple[int, int], int] = {}  # (channel, pitch) -> token sounding it
        self._tokens = itertools.count(1)
        self.record: list[SentMessage] | None = [] if record else None
        self.channels_used: set[int] = set()
        self.errors = 0
        self._log_limiter = LogLimiter(log)

    def sounding(self) -> list[tuple[int, int]]:
        with self._lock:
            return sorted(self._owner)

    def note_on(
        self, channel: int, pitch: int, velocity: int, intended: float | None = None
    ) -> int:
        """Start a note; returns the token its note-off must present. A note mido cannot
        encode is logged and not recorded as sounding (its note-off could never be sent)."""
        key = (channel, pitch)
        with self._lock:
            token = next(self._tokens)
            try:
                message = mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)
            except (TypeError, ValueError) as exc:
                self._log_limiter.warning("note %s on channel %s not sent: %s", pitch, channel, exc)
                return token
            if key in self._owner:
                # Same pitch still sounding: end it first, or the synth's single voice per
                # pitch would be cut by the older note's off while this one should sound.
                self._send(mido.Message("note_off", channel=channel, note=pitch), intended)
            self._owner[key] = token
            self.channels_used.add(channel)
            self._send(message, intended)
            return token

    def note_off(self, channel: int, pitch: int, token: int, intended: float | None = None) -> None:
        """End the note started with `token`, unless something already ended it."""
        key = (channel, pitch)
        with self._lock:
            if self._owner.get(key) != token:
                return
            del self._owner[key]
            self._send(mido.Message("note_off", channel=channel, note=pitch), intended)

    def silence(self, tokens: set[int]) -> None:
        """Note-offs for the sounding notes among `tokens` (one playback's notes)."""
        with self._lock:
            for (channel, pitch), token in list(self._owner.items()):
                if token in tokens:
                    del self._owner[(channel, pitch)]
                    self._send(mido.Message("note_off", channel=channel, note=pitch), None)

    def panic(self) -> None:
        """Note-off for every sounding note, then All Notes Off on every channel ever used
        (a synth downstream may hold notes we no longer know about)."""
        with self._lock:
            channels = self.channels_used
            for channel, pitch in list(self._owner):
                self._send(mido.Message("note_off", channel=channel, note=pitch), None)
            self._owner.clear()
            for channel in sorted(channels):
                self._send(
                    mido.Message("control_change", channel=channel, control=ALL_NOTES_OFF), None
                )

    def _send(self, message: mido.Message, intended: float | None) -> None:
        try:
            self.port.send(message)
        except Exception as exc:  # a vanished JACK server must not kill the scheduler thread
            self.errors += 1
            if self.errors in (1, 100, 10_000):
                log.error("MIDI output failed (%d so far): %s", self.errors, exc)
        if self.record is not None:
            self.record.append(SentMessage(message, intended, self.clock()))


class Playback:
    """One response on the output: notes placed at absolute transport beats.

    `lead_seconds` (latency compensation) sends every message that much before its beat, so a
    synth or DAW with that much input latency sounds it on the beat. Tempo changes while the
    playback is pending move its notes with the beat grid.
    """

    def __init__(
        self,
        sender: NoteSender,
        scheduler: Scheduler,
        channel: int,
        lead_seconds: float = 0.0,
    ) -> None:
        self.sender = sender
        self.scheduler = scheduler
        self.channel = channel
        self.lead_seconds = lead_seconds
        self._items: list[Scheduled] = []
        self._tokens: set[int] = set()
        self._lock = threading.Lock()
        self.cancelled = False
        self.scheduled_notes = 0
        self.first_on_sent: float | None = None
        self.last_beat = 0.0  # where the last scheduled note ends

    def add(self, note: Note, beat: float) -> None:
        """Play `note` (its own start is ignored) from transport beat `beat`."""
        with self._lock:
            if self.cancelled:
                return
            slot: dict[str, int] = {}
            end = beat + note.duration
            on = self._at(beat, lambda: self._on(note, beat, slot))
            off = self._at(end, lambda: self._off(note, end, slot))
            self._items += [on, off]
            self.scheduled_notes += 1
            self.last_beat = max(self.last_beat, end)

    def add_at_time(self, note: Note, when: float, seconds_per_beat: float) -> None:
        """Free-time variant for a stopped transport: place at monotonic `when`."""
        with self._lock:
            if self.cancelled:
                return
            slot: dict[str, int] = {}
            end = when + note.duration * seconds_per_beat
            lead = self.lead_seconds
            on = self.scheduler.at_time(when - lead, lambda: self._on_time(note, when - lead, slot))
            off = self.scheduler.at_time(end - lead, lambda: self._off_time(note, end - lead, slot))
            self._items += [on, off]
            self.scheduled_notes += 1

    def cancel(self) -> None:
        """Withdraw pending notes and silence the ones sounding (idempotent)."""
        with self._lock:
            self.cancelled = True
            items, self._items = self._items, []
            tokens = set(self._tokens)
        for item in items:
            self.scheduler.cancel(item)
        self.sender.silence(tokens)

    def pending(self) -> int:
        with self._lock:
            return sum(1 for item in self._items if item.fired_at is None and not item.cancelled)

    def _at(self, beat: float, callback: Callable[[], None]) -> Scheduled:
        # The lead stays in seconds when the tempo changes before the note plays.
        return self.scheduler.at_beat(beat, callback, offset_seconds=-self.lead_seconds)

    def _intended(self, beat: float) -> float:
        return self.scheduler.transport.time_at(beat) - self.lead_seconds

    def _on(self, note: Note, beat: float, slot: dict[str, int]) -> None:
        self._on_time(note, self._intended(beat), slot)

    def _off(self, note: Note, beat: float, slot: dict[str, int]) -> None:
        self._off_time(note, self._intended(beat), slot)

    def _on_time(self, note: Note, intended: float, slot: dict[str, int]) -> None:
        # Under the lock, so a concurrent cancel() either prevents this note or silences it.
        with self._lock:
            if self.cancelled:
                return
            token = self.sender.note_on(self.channel, note.pitch, note.velocity, intended)
            slot["token"] = token
            self._tokens.add(token)
        if self.first_on_sent is None:
            self.first_on_sent = self.sender.clock()

    def _off_time(self, note: Note, intended: float, slot: dict[str, int]) -> None:
        token = slot.get("token")
        if token is None:
            return
        self.sender.note_off(self.channel, note.pitch, token, intended)
        with self._lock:
            self._tokens.discard(token)
