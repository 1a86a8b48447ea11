"""The OSCQuery server: HTTP + JSON on its own TCP port, describing the OSC address space.

    GET /                         the whole namespace (see `protocols.oscquery_tree`)
    GET /dawhost/transport/tempo  one node;  GET /path?VALUE  one attribute: {"VALUE": [...]}
    GET /?HOST_INFO               server name, OSC port and transport, supported extensions
    Unknown path: 404. Unknown attribute name: 400. Attribute the node lacks: 204.

The same port accepts WebSocket connections for bidirectional streaming: a client sends
{"COMMAND": "LISTEN", "DATA": "/dawhost/transport/tempo"} (or IGNORE) and receives binary OSC
messages for that path whenever it changes (transport, option defaults, /dawhost/progress for
every job). Binary frames the client sends are OSC packets, handled exactly as on the UDP port
(requests included); their replies come back as binary frames on the same connection.
Models added or removed at run time are announced to every connection as
{"COMMAND": "PATH_ADDED" | "PATH_REMOVED", "DATA": "/dawhost/<model-id>"}.
A front-end of its own beside OSC: it reads the core (models, option store, transport) and
reaches the OSC front-end only through `protocols.osc_endpoint`. `[oscquery] enabled = false`
turns it off.
Access (see `protocols.access`): on a loopback bind the Host header must be a loopback name;
off loopback every request, HTTP or WebSocket, needs the server's token. A WebSocket from a
browser page of another site is refused (403) unless its Origin is listed in
`[oscquery] origins`; clients that send no Origin are not affected. CORS answers name an
allowed Origin, never `*`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

import host
from host.core import Core
from host.model import Model
from host.requests import Event, Progress
from host.requests import Request as CoreRequest
from host.transport import TransportSnapshot, subscribe_on_loop
from protocols import access
from protocols.osc_endpoint import OscEndpoint, osc_endpoint
from protocols.osc_wire import encode_message
from protocols.oscquery_tree import ATTRIBUTES, find, namespace
from protocols.ratelimit import LogLimiter
from protocols.ws_sender import BoundedSender

log = logging.getLogger(__name__)
# The websockets library logs every connection and HTTP response at INFO: a browser page's
# reloads would bury everything else. Its warnings and errors still show.
logging.getLogger("protocols.oscquery.ws").setLevel(logging.WARNING)

EXTENSIONS = {
    "ACCESS": True,
    "VALUE": True,
    "RANGE": True,
    "DESCRIPTION": True,
    "CLIPMODE": True,
    "LISTEN": True,
    "PATH_ADDED": True,
    "PATH_REMOVED": True,
    "PATH_CHANGED": False,
    "PATH_RENAMED": False,
    "TAGS": False,
    "UNIT": False,
    "CRITICAL": False,
    "HTML": False,
    "EXTENDED_TYPE": False,
    "OVERLOADS": False,
}
MAX_LISTENS = 256  # paths one connection may listen to
OSCQUERY_SERVICE = "oscquery"


def json_response(status: HTTPStatus, body: Any, cors_origin: str | None = None) -> Response:
    data = b"" if body is None else json.dumps(body).encode()
    headers = Headers(
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(data))),
            ("Connection", "close"),
        ]
    )
    if cors_origin is not None:  # an allowed page may read the namespace; never `*`
        headers["Access-Control-Allow-Origin"] = cors_origin
        headers["Vary"] = "Origin"
    return Response(status.value, status.phrase, headers, data)


class OscQueryServer(host.Frontend):
    name = "oscquery"

    def __init__(self) -> None:
        self._core: Core | None = None
        self.port = 0
        self.last_progress: list[Any] | None = None
        self._server: Server | None = None
        self._listeners: dict[ServerConnection, tuple[BoundedSender, set[str]]] = {}
        self._unsubscribe: list[Any] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._mdns: Any = None
        self._peers = 0
        self._mdns_start: asyncio.Task[None] | None = None
        self._log_limiter = LogLimiter(log)
        self._policy: access.AccessPolicy | None = None  # set at start, from the config

    @property
    def core(self) -> Core:
        assert self._core is not None, "the OSCQuery server has not started"
        return self._core

    @property
    def address(self) -> str:
        return f"http://{self.core.config.bind}:{self.port}/" if self._server else "off"

    @property
    def osc(self) -> OscEndpoint | None:
        """The OSC front-end this namespace describes (None when OSC is not serving)."""
        return osc_endpoint(self.core)

    async def start(self, core: Core) -> None:
        self._core = core
        settings = core.config.sections.get("oscquery", {})
        if not settings.get("enabled", True):
            log.info("OSCQuery is off ([oscquery] enabled = false)")
            return
        self._policy = access.AccessPolicy.for_core(core, "oscquery")
        self._loop = asyncio.get_running_loop()
        config = core.config
        self._server = await serve(
            self._connection,
            config.bind,
            config.oscquery_port,
            process_request=self._http,
            max_size=64 * 1024,
            close_timeout=2,
            logger=logging.getLogger("protocols.oscquery.ws"),
        )
        self.port = self._server.sockets[0].getsockname()[1]
        core.services[OSCQUERY_SERVICE] = self  # for whoever wants the namespace's port
        self._unsubscribe += [
            subscribe_on_loop(core.transport, self._loop, self._publish_transport),
            core.on_event(self._job_event),
            core.on_models_changed(self._models_changed),
            core.options.subscribe(self._option_changed),
        ]
        if config.mdns:
            from protocols.mdns import Advertiser

            self._mdns = Advertiser(config.bind, self.osc_port(), self.port)
            # mDNS probes for name conflicts for about a second per service: in the
            # background, so the server is ready at once.
            self._mdns_start = asyncio.create_task(self._mdns.start(), name="mdns")
        log.info("OSCQuery on http://%s:%d/", config.bind, self.port)

    async def stop(self) -> None:
        if self._core is not None and self._core.services.get(OSCQUERY_SERVICE) is self:
            del self._core.services[OSCQUERY_SERVICE]
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._mdns is not None:
            if self._mdns_start is not None and not self._mdns_start.done():
                self._mdns_start.cancel()
            await asyncio.gather(*(t for t in [self._mdns_start] if t), return_exceptions=True)
            await self._mdns.stop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for sender, _ in list(self._listeners.values()):
            await sender.aclose()

    # --- HTTP ------------------------------------------------------------------------------
    def osc_port(self) -> int:
        """Where OSC listens: the running front-end's port, else the configured one."""
        osc = self.osc
        return osc.port if osc is not None else self.core.config.osc_port

    def host_info(self) -> dict[str, Any]:
        return {
            "NAME": "dawhost",
            "OSC_IP": self.core.config.bind,
            "OSC_PORT": self.osc_port(),
            "OSC_TRANSPORT": "UDP",
            "EXTENSIONS": EXTENSIONS,
        }

    def tree(self) -> dict[str, Any]:
        return namespace(self.core, self.last_progress)

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        # A LISTEN connection can also send OSC requests: not from another site's page.
        assert self._policy is not None, "the OSCQuery server has not started"
        upgrade = "websocket" in [v.lower() for v in request.headers.get_all("Upgrade")]
        refusal = self._policy.check(request, upgrade=upgrade)
        if refusal is not None:
            self._log_limiter.warning(
                "refused OSCQuery client %s: %s", connection.remote_address, refusal.reason
            )
            return json_response(refusal.status, {"error": refusal.reason})
        if upgrade:
            return None
        response = self.answer(access.without_token(request.path))
        cors = self._policy.cors_origin(request)
        if cors is not None:
            response.headers["Access-Control-Allow-Origin"] = cors
            response.headers["Vary"] = "Origin"
        return response

    def answer(self, target: str) -> Response:
        """The HTTP response for one GET target such as "/dawhost/transport?VALUE"."""
        parts = urlsplit(target)
        path, query = unquote(parts.path) or "/", parts.query
        if query == "HOST_INFO":
            return json_response(HTTPStatus.OK, self.host_info())
        node = find(self.tree(), path)
        if node is None:
            return json_response(HTTPStatus.NOT_FOUND, {"error": f"no OSC node at {path}"})
        if not query:
            return json_response(HTTPStatus.OK, node)
        if query not in ATTRIBUTES:
            return json_response(
                HTTPStatus.BAD_REQUEST,
                {"error": f"unknown attribute {query!r}; known: {', '.join(ATTRIBUTES)}"},
            )
        if query not in node:
            return json_response(HTTPStatus.NO_CONTENT, None)
        return json_response(HTTPStatus.OK, {query: node[query]})

    # --- WebSocket (LISTEN) ------------------------------------------------------------------
    async def _connection(self, connection: ServerConnection) -> None:
        sender = BoundedSender(connection)
        paths: set[str] = set()
        self._listeners[connection] = (sender, paths)
        self._peers += 1
        peer_name = f"oscquery-ws-{self._peers}"
        # Binary frames are OSC packets (the OSCQuery spec's way to write values over the
        # same socket); they go through the OSC front-end and its replies come back here.
        osc = self.osc
        peer = osc.attach_stream(peer_name, sender.send) if osc is not None else None
        try:
            async for frame in connection:
                if isinstance(frame, bytes):
                    if osc is None or peer is None:
                        refusal = "OSC is not serving here, so OSC packets cannot run"
                        sender.send(json.dumps({"COMMAND": "ERROR", "DATA": refusal}))
                    else:
                        osc.handle_datagram(frame, peer)
                    continue
                problem = self._command(frame, paths)
                if problem:
                    self._log_limiter.warning(
                        "OSCQuery client %s: %s", connection.remote_address, problem
                    )
                    sender.send(json.dumps({"COMMAND": "ERROR", "DATA": problem}))
        except ConnectionClosed:
            pass
        finally:
            if osc is not None:
                osc.detach_stream(peer_name)
            self._listeners.pop(connection, None)
            await sender.aclose()

    def _command(self, frame: str, paths: set[str]) -> str | None:
        """Apply a LISTEN/IGNORE command; returns a problem description, or None."""
        try:
            command = json.loads(frame)
        except ValueError as exc:
            return f"not JSON: {exc}"
        except RecursionError:
            return "JSON nested too deeply"
        if not isinstance(command, dict) or not isinstance(command.get("DATA"), str):
            return 'expected {"COMMAND": "LISTEN" or "IGNORE", "DATA": "/osc/path"}'
        path, name = command["DATA"], command.get("COMMAND")
        if name == "LISTEN":
            if find(self.tree(), path) is None:
                return f"no OSC node at {path}"
            if len(paths) >= MAX_LISTENS:
                return f"at most {MAX_LISTENS} paths per connection"
            paths.add(path)
        elif name == "IGNORE":
            paths.discard(path)
        else:
            return f"unknown COMMAND {name!r}; use LISTEN or IGNORE"
        return None

    def publish(self, path: str, args: list[Any]) -> None:
        """Send a value change to every connection listening to `path` (on the loop)."""
        message: bytes | None = None
        for sender, paths in list(self._listeners.values()):
            if path in paths:
                message = message or encode_message(path, args)
                sender.send(message, droppable=True)

    def _publish_transport(self, snap: TransportSnapshot) -> None:
        base = "/dawhost/transport"
        self.publish(f"{base}/tempo", [snap.tempo])
        self.publish(f"{base}/playing", [snap.playing])
        self.publish(f"{base}/position", [snap.beat])
        self.publish(f"{base}/signature", [snap.numerator, snap.denominator])

    def _job_event(self, request: CoreRequest, event: Event) -> None:
        if isinstance(event, Progress):
            self.last_progress = [event.request_id, float(event.fraction), event.message]
            self.publish("/dawhost/progress", self.last_progress)

    def _option_changed(self, model_id: str, name: str, value: Any) -> None:
        self.publish(f"/dawhost/{model_id}/options/{name}", [value])

    def _models_changed(self, model_id: str, model: Model | None) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # changed from another thread: announce from the loop
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._models_changed, model_id, model)
            return
        command = "PATH_ADDED" if model is not None else "PATH_REMOVED"
        text = json.dumps({"COMMAND": command, "DATA": f"/dawhost/{model_id}"})
        for sender, paths in list(self._listeners.values()):
            if model is None:
                prefix = f"/dawhost/{model_id}/"
                paths.difference_update({p for p in paths if p.startswith(prefix)})
            sender.send(text)


@host.hookimpl
def register_frontends() -> Any:
    """OSCQuery: the OSC namespace over HTTP/WebSocket on `oscquery_port`."""
    yield OscQueryServer()
