"""Ableton Link as a transport source (aalink), opt-in: `link = true` in `[server]`.

Link peers share tempo, beat and (with start/stop sync) playing state over the local network;
its discovery multicasts, so it stays off unless asked for, and always off in tests. A poll
every few milliseconds copies the session into the Transport as `TransportSource.LINK`; the
position is re-anchored only when it has drifted, so the scheduler is not re-timed for nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from host.transport import MAX_TEMPO, MIN_TEMPO, Transport, TransportSource

log = logging.getLogger(__name__)

POLL_SECONDS = 0.005
DRIFT_BEATS = 0.002  # ~1 ms at 120 BPM: smaller differences are read noise


class LinkFollower:
    def __init__(self, transport: Transport, link: Any = None) -> None:
        """`link` is an aalink.Link (or a stand-in with tempo, beat, playing attributes)."""
        self.transport = transport
        self._link = link
        self._task: asyncio.Task[None] | None = None
        self.updates = 0

    async def start(self) -> None:
        if self._link is None:
            try:
                from aalink import Link
            except ImportError as exc:
                log.error("Ableton Link is on but aalink is not installed (%s)", exc)
                return
            self._link = Link(self.transport.tempo, asyncio.get_running_loop())
            self._link.start_stop_sync_enabled = True
            self._link.enabled = True
            log.info("Ableton Link enabled")
        self._task = asyncio.create_task(self._poll(), name="link-follower")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._link is not None and hasattr(self._link, "enabled"):
            self._link.enabled = False

    def sync_once(self) -> None:
        """Copy Link's session state into the Transport (one poll)."""
        link = self._link
        now = time.monotonic()
        tempo = min(MAX_TEMPO, max(MIN_TEMPO, float(link.tempo)))
        beat = max(0.0, float(link.beat))
        playing = bool(link.playing)
        source = TransportSource.LINK
        changed = False
        if abs(tempo - self.transport.tempo) > 1e-6:
            changed |= self.transport.set_tempo(tempo, source, at=now)
        if playing != self.transport.playing:
            if playing:
                self.transport.set_position(beat, source, at=now)
                changed |= self.transport.play(source, at=now)
            else:
                changed |= self.transport.stop(source, at=now)
        elif playing and abs(self.transport.beat_at(now) - beat) > DRIFT_BEATS:
            changed |= self.transport.set_position(beat, source, at=now)
        self.updates += changed

    async def _poll(self) -> None:
        while True:
            try:
                self.sync_once()
            except Exception as exc:  # a bad value from the network must not end the poll
                log.warning("Link sync failed: %r", exc)
            await asyncio.sleep(POLL_SECONDS)
