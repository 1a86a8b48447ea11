"""The OSC front-end (UDP): every model reachable from Max, Ableton and SuperCollider.

Address space (requests in, replies out; `<id>` is the request id, an int or a symbol, echoed
back with the type it came in)::

    /dawhost/<model-id>/<verb> <id> <key> <value> ...   run a request (verbs: continue, render,
                                                        separate, sing, speak)
        keys: option names (one value each), input names, `seed <int>`,
              `start <beat | "bar:beat">` (where the result should land; bars/beats from 1),
              `deliver asap | timed`, `latency_ms <ms>`, `align bar | beat` (how notes come
              back; see protocols.osc_timed).
        A notes input takes the numbers after its name up to the next string, as flat
        `pitch velocity start_beat duration_beat` groups:
            /dawhost/fake-echo/continue 7 primer 60 100 0 1 64 90 1 1 repeats 2
        or one string (a .mid path inside the work folder) or one OSC array.
        Audio, MIDI and text inputs take one string (a path, or the text; quote it in Max).
        `<input>_from <model-id>` makes that input with another model first, in the same
        request (a chain, `host.chain`); the step takes the keys the addressed model does not,
        or `<step-model>.<key>`:
            /dawhost/music-transformer/continue 7 primer_from transcribe audio /tmp/hum.wav bars 4
    /dawhost/<model-id>/options/<name> <value>          set this server's default for an option
                                                        (what OSCQuery clients' sliders write)
    /dawhost/cancel <id>
    /dawhost/reply <port>          send replies to <port> on the sender's host (Max's [udpsend]
                                   sends from a random port); also subscribes to transport news
    /dawhost/ping [args...]        -> /dawhost/pong [args...]
    /dawhost/models [capability]   -> /dawhost/model <id> <json> per model (with the capability,
                                      e.g. separate_stems), then /dawhost/models <count> <id> ...
                                      (/dawhost/models <capability> <count> <id> ... if filtered)
    /dawhost/<model-id>/options    -> /dawhost/option <model-id> <name> <type> <value> <min> <max>
                                      [<choice> ...] per option (min/max "" when unbounded), then
                                      /dawhost/options <model-id> <count>
    /dawhost/transport             -> /dawhost/transport <tempo> <num> <den> <playing 0/1>
                                                         <beat> <"bar:beat">
    /dawhost/transport/tempo <bpm> | /play | /stop | /position <beat | "bar:beat">
                                   | /signature <num> <den>
        In a bundle with a future timetag, these are applied at the timetag, not early.

Replies, sent to the sender's address and to its reply port (registered, else the default
`reply_port`, 9001), from the server's OSC port::

    /dawhost/accepted <id> <model-id> <queue-position>
    /dawhost/progress <id> <fraction 0..1> <message>
    /dawhost/note     <id> <pitch> <velocity> <start_beat> <duration_beat>    one per note
    with `deliver timed`, instead of /dawhost/note (each in a bundle timetagged with its grid time):
    /dawhost/noteon   <id> <pitch> <velocity>        at the note's start, latency_ms early
    /dawhost/noteoff  <id> <pitch>                   at its end
    /dawhost/allnotesoff <id>                        after a cancel or a transport stop
    /dawhost/scheduled <id> <count> <anchor-beat> <"bar:beat">   notes placed, where beat 0 is
    /dawhost/late     <id> <pitch> <velocity> <start_beat> <duration_beat>   not played: too late
    /dawhost/output   <id> notes <name> <note-count>                          after its notes
    /dawhost/output   <id> audio <name> <wav-path> <sample-rate>
    /dawhost/output   <id> stem  <stem-name> <wav-path> <sample-rate>         one per stem
    /dawhost/output   <id> file  <name> <path> <media-type>
    /dawhost/output   <id> data  <name> <json>
    /dawhost/done     <id> <elapsed-seconds> <output-count> <provenance-json>
    /dawhost/error    <id> <code> <message> <field>       id "" when the message had none;
                                                          field "" when no single field is wrong
    /dawhost/transport ... (as above)  to registered reply ports whenever the transport changes

Request ids are unique per sending host (cancel works from any port on that host). The same
packets also work as binary frames on the OSCQuery WebSocket (`protocols.oscquery`, a front-end
of its own), with replies on that socket. Option defaults set here are the core's, so
WebSocket and MIDI requests start from them too.
Settings: `[osc] receive_buffer` (bytes, default 16 MiB), `[osc] allow` (networks that may send
when bound beyond loopback; see `protocols.osc_allow`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

import host
from host.core import Core
from host.errors import DawhostError, ErrorCode
from host.model import Capability
from host.options import option_specs
from host.requests import Event
from host.transport import TransportSnapshot, subscribe_on_loop
from protocols.osc_allow import SourceFilter
from protocols.osc_endpoint import OSC_SERVICE
from protocols.osc_requests import OscReply, encode_event, error_reply, parse_request
from protocols.osc_socket import RECEIVE_BUFFER_BYTES, open_udp_socket
from protocols.osc_timed import TimedDeliveries, parse_delivery
from protocols.osc_transport import apply_transport_message, transport_reply
from protocols.osc_wire import (
    IMMEDIATELY,
    OscDecodeError,
    OscMessage,
    decode_packet,
    encode_message,
)
from protocols.ratelimit import LogLimiter

log = logging.getLogger(__name__)

MAX_DATAGRAM = 65_000  # larger replies cannot travel in one UDP datagram
MAX_SCHEDULE_AHEAD = 300.0  # seconds; later timetags are refused, not queued forever
MAX_SCHEDULED = 1024
MAX_REPLY_REGISTRATIONS = 1024  # /dawhost/reply senders remembered (and sent transport news)
Address = tuple[str, int]


class OscProtocol(asyncio.DatagramProtocol):
    def __init__(self, frontend: OscFrontend) -> None:
        self.frontend = frontend

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if not self.frontend.sources.allows(addr[0]):
            return  # no reply: the source may be forged (see protocols.osc_allow)
        try:
            self.frontend.handle_datagram(data, addr[:2])
        except Exception:  # nothing a client sends may stop the server
            log.exception("OSC datagram from %s crashed its handler", addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP "port unreachable" when a reply port has no listener: normal for UDP.
        log.debug("OSC socket error: %s", exc)


class OscFrontend(host.Frontend):
    name = "osc"

    def __init__(self, receive_buffer: int | None = None) -> None:
        self.core: Core | None = None
        self._receive_buffer_wanted = receive_buffer  # None: the config's, else 16 MiB
        self.port = 0
        self.receive_buffer = 0
        self.datagrams_received = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reply_ports: dict[Address, int] = {}  # (host, source port) -> reply port
        self._host_reply_ports: dict[str, int] = {}  # latest registration per host
        self._streams: dict[str, Callable[[bytes], object]] = {}  # stream peer -> its sender
        self._pending: dict[int, Any] = {}  # held bundle messages: scheduler items, timer handles
        self._unsubscribe: list[Callable[[], None]] = []
        self.timed: TimedDeliveries | None = None  # `deliver timed` requests
        self._log_limiter = LogLimiter(log)
        self.sources = SourceFilter("127.0.0.1")

    @property
    def address(self) -> str:
        assert self.core is not None
        return f"udp://{self.core.config.bind}:{self.port}"

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self, core: Core) -> None:
        self.core = core
        self._loop = asyncio.get_running_loop()
        settings = core.config.sections.get("osc", {})
        self.sources = SourceFilter(core.config.bind, settings.get("allow", []))
        wanted = self._receive_buffer_wanted or int(
            settings.get("receive_buffer", RECEIVE_BUFFER_BYTES)
        )
        sock = open_udp_socket(core.config.bind, core.config.osc_port, wanted)
        self.receive_buffer = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        transport, _ = await self._loop.create_datagram_endpoint(
            lambda: OscProtocol(self), sock=sock
        )
        self._transport = transport
        self.port = sock.getsockname()[1]
        self._unsubscribe.append(
            subscribe_on_loop(core.transport, self._loop, self._broadcast_transport)
        )
        core.services[OSC_SERVICE] = self
        self.timed = TimedDeliveries(core, self._loop, self._streams, self.send_replies)
        log.info("OSC listening on %s (receive buffer %d bytes)", self.address, self.receive_buffer)
        notice = self.sources.startup_message()
        if notice is not None:
            log.log(*notice)

    async def stop(self) -> None:
        if self.core is not None:
            self._cancel_pending()
            if self.core.services.get(OSC_SERVICE) is self:
                del self.core.services[OSC_SERVICE]
        if self.timed is not None:
            self.timed.stop()
            self.timed = None
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    # --- receiving -------------------------------------------------------------------------
    def handle_datagram(self, data: bytes, addr: Address) -> None:
        self.datagrams_received += 1
        try:
            messages = decode_packet(data)
        except OscDecodeError as exc:
            self._log_limiter.warning("bad OSC packet from %s:%s: %s", addr[0], addr[1], exc)
            self.send_replies(
                [error_reply(None, ErrorCode.BAD_REQUEST.value, f"malformed OSC packet: {exc}")],
                self.targets(addr),
            )
            return
        now = time.time()
        for message in messages:
            ahead = message.timetag - now if message.timetag != IMMEDIATELY else 0.0
            if ahead > 0.0005:
                self._schedule(message, addr, ahead)
            else:
                self.dispatch(message, addr)

    def dispatch(self, message: OscMessage, addr: Address) -> None:
        """Handle one message on the loop; every problem becomes an `/dawhost/error` reply."""
        try:
            self._route(message, addr)
        except DawhostError as exc:
            self._log_limiter.warning("OSC %s from %s: %s", message.address, addr[0], exc.message)
            reply = error_reply(_request_id_hint(message), exc.code.value, exc.message, exc.field)
            self.send_replies([reply], self.targets(addr))

    def _route(self, message: OscMessage, addr: Address) -> None:
        assert self.core is not None
        parts = message.address.split("/")[1:]
        if not parts or parts[0] != "dawhost" or len(parts) < 2:
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                f"unknown address {message.address!r}; dawhost addresses start with /dawhost/ "
                "(try /dawhost/ping or /dawhost/models)",
            )
        head, args = parts[1], message.args
        if len(parts) == 2 and head in _SIMPLE_COMMANDS:
            _SIMPLE_COMMANDS[head](self, args, addr)
            return
        if head == "transport":
            self._transport_command(parts[2:], args, addr)
            return
        offered = {m.model_id for m in self._exposed()}
        if head in self.core.models and head not in offered:
            raise DawhostError(
                ErrorCode.UNKNOWN_MODEL,
                f"model {head!r} is not offered over OSC (see the manifest's expose list)",
                "model",
            )
        if len(parts) == 3 and parts[2] == "options" and head in offered:
            self.send_replies(
                option_replies(
                    self.core.models[head], self.core.options.defaults(self.core.models[head])
                ),
                self.targets(addr),
            )
        elif len(parts) == 3 and head in offered:
            self._request(head, parts[2], args, addr)
        elif len(parts) == 4 and parts[2] == "options" and head in offered:
            self.set_option(head, parts[3], args)
        elif len(parts) in (3, 4):
            known = ", ".join(sorted(offered)) or "none loaded"
            raise DawhostError(
                ErrorCode.UNKNOWN_MODEL,
                f"no model {head!r} (address {message.address}); models: {known}",
                field="model",
            )
        else:
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                f"unknown address {message.address!r}; use /dawhost/<model-id>/<verb> or "
                + ", ".join(f"/dawhost/{c}" for c in [*_SIMPLE_COMMANDS, "transport"]),
            )

    def _exposed(self) -> list[host.Model]:
        assert self.core is not None
        return self.core.exposed_models(self.name)

    # --- commands --------------------------------------------------------------------------
    def _request(self, model_id: str, verb: str, args: tuple[Any, ...], addr: Address) -> None:
        assert self.core is not None
        model = self.core.models[model_id]
        if Capability.from_verb(verb) is None:
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                f"unknown verb {verb!r} for /dawhost/{model_id}; "
                f"it can: {', '.join(model.verbs())}",
                field="verb",
            )
        reply_id, request = parse_request(
            model,
            verb,
            args,
            self.client_of(addr),
            self.core.transport.beats_per_bar,
            {m.model_id: m for m in self._exposed()},
        )
        targets = self.targets(addr)
        delivery = parse_delivery(request.delivery, model_id)
        if delivery.deliver == "timed":
            assert self.timed is not None
            self.timed.submit(request, reply_id, delivery, targets)
            return

        def sink(event: Event) -> None:
            self.send_replies(encode_event(event, reply_id), targets)

        self.core.submit(request, sink)

    def _ping(self, args: tuple[Any, ...], addr: Address) -> None:
        self.send_replies([("/dawhost/pong", list(args))], self.targets(addr))

    def _models(self, args: tuple[Any, ...], addr: Address) -> None:
        wanted = _capability_filter(args)
        models = [
            m.describe() for m in self._exposed() if wanted is None or wanted in m.capabilities
        ]
        replies: list[OscReply] = [
            ("/dawhost/model", [info["id"], json.dumps(info, separators=(",", ":"))])
            for info in models
        ]
        # A filtered list says which capability it answers, so one patch can ask for several.
        tag = [] if wanted is None else [wanted.value]
        replies.append(("/dawhost/models", [*tag, len(models), *(info["id"] for info in models)]))
        self.send_replies(replies, self.targets(addr))

    def _register_reply(self, args: tuple[Any, ...], addr: Address) -> None:
        if addr[0] in self._streams:
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                "replies already come back on this WebSocket; /dawhost/reply is for UDP senders",
            )
        port = args[0] if len(args) == 1 else None
        if isinstance(port, float) and port.is_integer():
            port = int(port)
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                f"/dawhost/reply takes one port number 1..65535, got {args!r}",
            )
        self._reply_ports.pop(addr, None)  # re-insert: dicts keep insertion order
        self._reply_ports[addr] = port
        self._host_reply_ports[addr[0]] = port
        while len(self._reply_ports) > MAX_REPLY_REGISTRATIONS:  # forget the oldest
            del self._reply_ports[next(iter(self._reply_ports))]
        self.send_replies([("/dawhost/reply", [port])], self.targets(addr))

    def _cancel(self, args: tuple[Any, ...], addr: Address) -> None:
        assert self.core is not None
        if len(args) != 1 or isinstance(args[0], bool) or not isinstance(args[0], (int, str)):
            raise DawhostError(ErrorCode.BAD_REQUEST, "/dawhost/cancel takes one request id")
        client, request_id = self.client_of(addr), str(args[0])
        timed = self.timed is not None and self.timed.cancel(client, request_id)
        if not self.core.cancel(client, request_id) and not timed:
            raise DawhostError(
                ErrorCode.BAD_REQUEST, f"no running request {args[0]!r} from this host to cancel"
            )

    def set_option(self, model_id: str, name: str, args: tuple[Any, ...]) -> None:
        """Change this server's default value of one option (for requests from every wire).
        An optional option is unset with OSC nil or the symbol `none`."""
        assert self.core is not None
        if len(args) != 1:
            raise DawhostError(ErrorCode.BAD_OPTION, f"option {name!r} takes one value", name)
        self.core.options.set(self.core.models[model_id], name, args[0])

    # --- transport ---------------------------------------------------------------------------
    def _transport_command(self, path: list[str], args: tuple[Any, ...], addr: Address) -> None:
        if not path:
            self.send_replies([transport_reply(self._snapshot())], self.targets(addr))
            return
        self.apply_transport(path[0] if len(path) == 1 else "/".join(path), args, None)

    def apply_transport(self, command: str, args: tuple[Any, ...], at: float | None) -> None:
        """Apply one transport message (any thread); `at` is the monotonic time it takes
        effect. Raises DawhostError naming the problem."""
        assert self.core is not None
        apply_transport_message(self.core.transport, command, args, at)

    def _schedule(self, message: OscMessage, addr: Address, ahead: float) -> None:
        """Hold a message from a future-dated bundle until its timetag."""
        assert self.core is not None and self._loop is not None
        if ahead > MAX_SCHEDULE_AHEAD or len(self._pending) >= MAX_SCHEDULED:
            self.dispatch_error(
                addr,
                f"bundle timetag {ahead:.1f} s ahead cannot be held "
                f"(at most {MAX_SCHEDULE_AHEAD:g} s and {MAX_SCHEDULED} pending)",
            )
            return
        due = time.monotonic() + ahead
        parts = message.address.split("/")
        loop = self._loop
        handle: Any = None

        def on_loop(error: str | None) -> None:
            self._pending.pop(id(handle), None)
            if error:
                self.dispatch_error(addr, error)

        if parts[1:3] == ["dawhost", "transport"] and len(parts) == 4:

            def fire() -> None:  # on the scheduler thread, to apply the change exactly at `due`
                error = None
                try:
                    self.apply_transport(parts[3], message.args, at=due)
                except DawhostError as exc:
                    error = exc.message
                if not loop.is_closed():
                    loop.call_soon_threadsafe(on_loop, error)

            handle = self.core.scheduler.at_time(due, fire)
        else:

            def later() -> None:
                on_loop(None)
                self.dispatch(message, addr)

            handle = loop.call_at(loop.time() + ahead, later)
        self._pending[id(handle)] = handle

    def _cancel_pending(self) -> None:
        """Drop bundle messages not yet due (the front-end is stopping)."""
        assert self.core is not None
        for handle in list(self._pending.values()):
            if isinstance(handle, asyncio.TimerHandle):
                handle.cancel()
            else:
                self.core.scheduler.cancel(handle)
        self._pending.clear()

    def dispatch_error(self, addr: Address, message: str) -> None:
        self.send_replies(
            [error_reply(None, ErrorCode.BAD_REQUEST.value, message)], self.targets(addr)
        )

    def _snapshot(self) -> TransportSnapshot:
        assert self.core is not None
        return self.core.transport.snapshot()

    def _broadcast_transport(self, snapshot: TransportSnapshot) -> None:
        targets = {(h, p) for (h, _), p in self._reply_ports.items()}
        self.send_replies([transport_reply(snapshot)], sorted(targets))

    # --- sending ---------------------------------------------------------------------------
    def client_of(self, addr: Address) -> str:
        return f"osc:{addr[0]}"

    def attach_stream(self, name: str, send: Callable[[bytes], object]) -> Address:
        """A peer that sends OSC packets over another connection (the OSCQuery WebSocket):
        feed its packets to `handle_datagram` with the returned address; replies go to
        `send`. Call `detach_stream(name)` when the connection closes."""
        self._streams[name] = send
        return (name, 0)

    def detach_stream(self, name: str) -> None:
        self._streams.pop(name, None)

    def targets(self, addr: Address) -> list[Address]:
        """The sender's address and its reply port (registered, else the default)."""
        assert self.core is not None
        if addr[0] in self._streams:
            return [addr]  # a stream peer gets its replies on its own connection
        port = self._reply_ports.get(addr) or self._host_reply_ports.get(addr[0])
        reply = (addr[0], port or self.core.config.reply_port)
        return [addr] if reply == addr else [addr, reply]

    def send_replies(self, replies: list[OscReply], targets: list[Address]) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        for address, args in replies:
            dgram = self._encode(address, args)
            for target in targets:
                stream = self._streams.get(target[0])
                if stream is not None:
                    stream(dgram)
                else:
                    self._transport.sendto(dgram, target)

    def _encode(self, address: str, args: list[Any]) -> bytes:
        """The datagram for one reply, or an error reply saying why it cannot be sent."""
        try:
            dgram = encode_message(address, args)
            problem = (
                (
                    f"{address} reply of {len(dgram)} bytes is too large for UDP; use the "
                    "WebSocket front-end for this output"
                )
                if len(dgram) > MAX_DATAGRAM
                else ""
            )
        except (OverflowError, ValueError, TypeError, struct.error) as exc:
            # e.g. /dawhost/ping echoing an empty blob or a double too large for a float32
            problem = f"{address} reply cannot be encoded as OSC: {exc}"
        if not problem:
            return dgram
        self._log_limiter.warning("%s", problem)
        reply_id = args[0] if args and isinstance(args[0], (str, int)) else None
        code = ErrorCode.BAD_REQUEST if address == "/dawhost/pong" else ErrorCode.MODEL_ERROR
        try:
            return encode_message(*error_reply(reply_id, code.value, problem))
        except (OverflowError, ValueError, TypeError, struct.error):
            # The id or the text is what cannot be encoded (a lone surrogate, say): the error
            # still goes out, without the id and with the text escaped.
            text = problem.encode("ascii", "backslashreplace").decode()
            return encode_message(*error_reply(None, code.value, text))


_SIMPLE_COMMANDS: dict[str, Callable[[OscFrontend, tuple[Any, ...], Address], None]] = {
    "ping": OscFrontend._ping,
    "models": OscFrontend._models,
    "reply": OscFrontend._register_reply,
    "cancel": OscFrontend._cancel,
}


def _capability_filter(args: tuple[Any, ...]) -> Capability | None:
    """`/dawhost/models [capability]`: the one capability asked for, or None for every model."""
    if not args:
        return None
    try:
        (value,) = args
        return Capability(value)
    except ValueError:
        known = ", ".join(c.value for c in Capability)
        raise DawhostError(
            ErrorCode.BAD_REQUEST,
            f"/dawhost/models takes nothing or one capability ({known}), got {list(args)!r}",
        ) from None


def option_replies(model: host.Model, current: dict[str, Any]) -> list[OscReply]:
    """`/dawhost/<model>/options` -> one `/dawhost/option <model> <name> <type> <value> <min>
    <max> [<choice> ...]` per option (min/max "" when unbounded; value `none` when an optional
    option is unset, which Max can send back), then `/dawhost/options <model> <count>`: the
    ranges a Max number box or menu needs, in atoms Max can route. `current` is the core's
    defaults for the model."""
    replies: list[OscReply] = []
    for spec in option_specs(model.Options):
        value = current.get(spec.name, spec.default)
        if isinstance(value, bool):
            value = int(value)
        elif value is None:
            value = "none"
        bounds = ["" if b is None else b for b in (spec.minimum, spec.maximum)]
        args = [model.model_id, spec.name, spec.type, value, *bounds, *(spec.choices or ())]
        replies.append(("/dawhost/option", args))
    replies.append(("/dawhost/options", [model.model_id, len(replies)]))
    return replies


def _request_id_hint(message: OscMessage) -> Any:
    """The request id an error should carry: the first argument of a request or cancel."""
    parts = message.address.split("/")
    is_request = len(parts) == 4 and parts[2] not in ("transport", "options")
    if (is_request or message.address == "/dawhost/cancel") and message.args:
        first = message.args[0]
        if isinstance(first, (int, str)) and not isinstance(first, bool):
            return first
    return None


@host.hookimpl
def register_frontends() -> Any:
    """The OSC front-end (OSCQuery, its namespace, is `protocols.oscquery`)."""
    yield OscFrontend()
