"""Timed delivery over OSC: a request's notes sent at their place on the transport grid.

With `deliver timed`, a note-producing request's notes are not sent as a burst of
`/dawhost/note` replies: each note becomes `/dawhost/noteon <id> <pitch> <velocity>` at its
start and `/dawhost/noteoff <id> <pitch>` at its end, sent `latency_ms` early, each inside an
OSC bundle whose timetag is the note's grid time (clients that honour timetags, such as
SuperCollider, sound it exactly then; Max's `[udpreceive]` plays on arrival). The placing is
the MIDI output's: `call_response.Response` streams batches ahead of the playhead onto the one
`host.scheduler.Scheduler` thread, and a note whose time has passed when the model hands it
over is reported with `/dawhost/late`, never played late. Stop, cancel and shutdown end every
sounding note (`/dawhost/noteoff`, then `/dawhost/allnotesoff <id>`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import mido

from host.core import Core
from host.options import Field, Options, validate_options
from host.requests import Event, OutputEvent, Request
from host.transport import TransportSnapshot, format_bar_beat
from protocols.call_response import Response
from protocols.midi_output import ALL_NOTES_OFF, NoteSender, SentMessage
from protocols.osc_requests import DELIVERY_KEYS, OscReply, RequestId, encode_event
from protocols.osc_wire import IMMEDIATELY, encode_message

log = logging.getLogger(__name__)

Address = tuple[str, int]
_NTP_EPOCH = 2_208_988_800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)
# Timed requests remembered after their last note (for /dawhost/cancel of a late request).
MAX_TIMED = 256


class DeliveryOptions(Options):
    """How an OSC request's notes come back: request keys next to the model's own options."""

    deliver: Literal["asap", "timed"] = Field(
        "asap",
        description="asap: every note as /dawhost/note the moment the model makes it; timed: "
        "/dawhost/noteon and /dawhost/noteoff at their place on the transport grid",
    )
    latency_ms: float = Field(
        0.0,
        ge=0.0,
        le=1000.0,
        description="timed: send each note this many ms before its grid time (the latency "
        "of what plays it); the bundle's timetag stays the grid time",
    )
    align: Literal["bar", "beat"] = Field(
        "bar",
        description="timed, without start: the answer begins on the next bar line or beat",
    )


assert tuple(DeliveryOptions.model_fields) == DELIVERY_KEYS  # the parser's list of keys


def parse_delivery(values: dict[str, Any], model_id: str = "") -> DeliveryOptions:
    """The delivery keys of one request, checked like options (errors name the key)."""
    checked = validate_options(DeliveryOptions, values, model_id)
    assert isinstance(checked, DeliveryOptions)
    return checked


def encode_timed_bundle(message: bytes, unix_time: float) -> bytes:
    """One message in a bundle to fire at `unix_time` (IMMEDIATELY: now). Written here, not
    with python-osc's builder, because the scheduler thread encodes at the moment it sends."""
    if unix_time == IMMEDIATELY:
        timetag = b"\x00\x00\x00\x00\x00\x00\x00\x01"
    else:
        seconds, fraction = divmod(unix_time + _NTP_EPOCH, 1.0)
        timetag = struct.pack(">II", int(seconds), min(int(fraction * 2**32), 2**32 - 1))
    return b"#bundle\x00" + timetag + struct.pack(">i", len(message)) + message


class PacketOut:
    """Sends datagrams from any thread: its own UDP socket for UDP peers, the loop for peers
    on another connection (the OSCQuery WebSocket), whose senders are not thread-safe."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        streams: dict[str, Callable[[bytes], object]],
    ) -> None:
        self._loop = loop
        self._streams = streams
        self._sockets: dict[int, socket.socket] = {}
        self._lock = threading.Lock()
        self.errors = 0

    def send(self, packet: bytes, targets: list[Address]) -> None:
        for target in targets:
            stream = self._streams.get(target[0])
            if stream is not None:
                if not self._loop.is_closed():
                    self._loop.call_soon_threadsafe(stream, packet)
                continue
            try:
                self._socket(target[0]).sendto(packet, target)
            except OSError as exc:  # no listener, a full buffer: UDP's normal losses
                self.errors += 1
                if self.errors in (1, 100, 10_000):
                    log.warning(
                        "timed OSC send to %s failed (%d so far): %s", target, self.errors, exc
                    )

    def _socket(self, host: str) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with self._lock:
            sock = self._sockets.get(family)
            if sock is None:
                sock = self._sockets[family] = socket.socket(family, socket.SOCK_DGRAM)
            return sock

    def close(self) -> None:
        with self._lock:
            for sock in self._sockets.values():
                sock.close()
            self._sockets.clear()


class OscNoteSender(NoteSender):
    """The MIDI output's note bookkeeping (every note-on gets exactly one note-off), writing
    OSC bundles instead of MIDI bytes. `intended` is when the scheduler sends (grid time minus
    the latency); the timetag is the grid time itself."""

    def __init__(
        self,
        reply_id: RequestId,
        targets: list[Address],
        out: PacketOut,
        lead_seconds: float,
        record: bool = False,
    ) -> None:
        super().__init__(port=self, clock=time.monotonic, record=record)
        self.reply_id = reply_id
        self.targets = targets
        self.out = out
        self.lead_seconds = lead_seconds

    def send(self, message: mido.Message) -> None:  # the OutputPort protocol; unused
        raise NotImplementedError

    def _send(self, message: mido.Message, intended: float | None) -> None:
        if message.type == "note_on":
            osc = encode_message("/dawhost/noteon", [self.reply_id, message.note, message.velocity])
        elif message.type == "note_off":
            osc = encode_message("/dawhost/noteoff", [self.reply_id, message.note])
        elif message.type == "control_change" and message.control == ALL_NOTES_OFF:
            osc = encode_message("/dawhost/allnotesoff", [self.reply_id])
        else:  # pragma: no cover - NoteSender sends nothing else
            return
        # monotonic -> Unix time, read at the moment of sending (the two clocks drift apart
        # slowly, and an NTP step would move a tag computed earlier).
        unix = (
            IMMEDIATELY
            if intended is None
            else intended + self.lead_seconds + time.time() - time.monotonic()
        )
        self.out.send(encode_timed_bundle(osc, unix), self.targets)
        if self.record is not None:
            self.record.append(SentMessage(message, intended, self.clock()))


@dataclass
class TimedRequest:
    client: str
    request_id: str
    response: Response


class TimedDeliveries:
    """Every `deliver timed` request of one OSC front-end. Methods run on the event loop,
    except `_transport_changed` (on whichever thread changed the transport)."""

    def __init__(
        self,
        core: Core,
        loop: asyncio.AbstractEventLoop,
        streams: dict[str, Callable[[bytes], object]],
        send_replies: Callable[[list[OscReply], list[Address]], None],
        record: bool = False,
    ) -> None:
        self.core = core
        self.loop = loop
        self.out = PacketOut(loop, streams)
        self.send_replies = send_replies
        self.record = record  # keep each sender's SentMessage log (benchmarks, tests)
        self.active: dict[tuple[str, str], TimedRequest] = {}
        self._was_playing = core.transport.playing
        self._unsubscribe = core.transport.subscribe(self._transport_changed)

    def submit(
        self,
        request: Request,
        reply_id: RequestId,
        delivery: DeliveryOptions,
        targets: list[Address],
    ) -> Response:
        """Run `request`; its notes go out on the grid, everything else as usual."""
        self._forget_finished()
        key = (request.client, request.request_id)
        old = self.active.pop(key, None)
        if old is not None:
            old.response.cancel()
        lead = delivery.latency_ms / 1000.0
        sender = OscNoteSender(reply_id, targets, self.out, lead, record=self.record)
        transport = self.core.transport
        response = Response(
            self.core,
            sender,
            channel=0,
            unit_beats=transport.beats_per_bar if delivery.align == "bar" else 1.0,
            lead_beats=0.0,
            lead_seconds=lead,
        )
        response.request_id = request.request_id
        response.client = request.client
        anchor = response.begin(request.start_beat)
        self.active[key] = TimedRequest(request.client, request.request_id, response)

        def sink(event: Event) -> None:
            replies = [r for r in encode_event(event, reply_id) if r[0] != "/dawhost/note"]
            self.send_replies(replies, targets)
            late_before = len(response.late)
            placed_before = response.playback.scheduled_notes
            response.on_event(event)
            if isinstance(event, OutputEvent):
                self._report(response, reply_id, targets, late_before, placed_before)

        self.core.submit(replace(request, start_beat=anchor), sink)
        return response

    def _report(
        self,
        response: Response,
        reply_id: RequestId,
        targets: list[Address],
        late_before: int,
        placed_before: int,
    ) -> None:
        replies: list[OscReply] = [
            ("/dawhost/late", [reply_id, n.pitch, n.velocity, float(n.start), float(n.duration)])
            for n in response.late[late_before:]
        ]
        placed = response.playback.scheduled_notes - placed_before
        if placed:
            beat = response.anchor_beat
            where = (
                [float(beat), format_bar_beat(beat, self.core.transport.beats_per_bar)]
                if beat is not None
                else [-1.0, "free"]  # stopped transport: free time from now
            )
            replies.append(("/dawhost/scheduled", [reply_id, placed, *where]))
        if replies:
            self.send_replies(replies, targets)

    def cancel(self, client: str, request_id: str) -> bool:
        """Withdraw a timed request's pending notes and end its sounding ones."""
        timed = self.active.pop((client, request_id), None)
        if timed is None:
            return False
        self._end(timed)
        return True

    def stop(self) -> None:
        self._unsubscribe()
        for timed in list(self.active.values()):
            self._end(timed)
        self.active.clear()
        self.out.close()

    def _forget_finished(self) -> None:
        for key, timed in list(self.active.items()):
            if timed.response.finished and timed.response.playback.pending() == 0:
                del self.active[key]
        while len(self.active) > MAX_TIMED:
            key = next(iter(self.active))
            self.active.pop(key).response.cancel()

    def _transport_changed(self, snapshot: TransportSnapshot) -> None:
        """On stop, end every timed answer: the grid its notes were placed on is gone."""
        was_playing, self._was_playing = self._was_playing, snapshot.playing
        if not was_playing or snapshot.playing:
            return
        for timed in list(self.active.values()):
            timed.response.playback.cancel()  # thread-safe: note-offs now, from this thread
            if not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self._end, timed)

    @staticmethod
    def _end(timed: TimedRequest) -> None:
        """Stop generating, withdraw pending notes, end sounding ones, then All Notes Off
        (a client that missed a note-off datagram still goes quiet)."""
        timed.response.cancel()
        sender = timed.response.playback.sender
        if sender.channels_used:
            sender.panic()
