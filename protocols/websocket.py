"""The WebSocket front-end: JSON messages for browsers and scripts, plus the browser page.

Client -> server (JSON text; every message has a "type")::

    {"type": "describe"}                                   -> {"type": "models", "models": [...],
                                                              "transport": {...}}
    {"type": "generate", "id": "r1", "model": "fake-echo", "verb": "continue",
     "options": {"repeats": 2}, "inputs": {"primer": [[60, 100, 0, 1], ...]},
     "seed": 7, "start": "5:1", "binary": true}            verb may be left out when the model
                                                           has one; start is a beat or "bar:beat"
    an input may be {"from": "transcribe", "options": {...}, "inputs": {"audio": path}}: that
     model makes it first, in the same request (a chain, see host.chain)
    {"type": "cancel", "id": "r1"}
    {"type": "transport", "tempo": 96, "playing": true, "position": "1:1", "signature": [3, 4]}
                                                           any subset; {} asks for the state
    {"type": "ping", ...}                                  -> {"type": "pong", ...same fields}
    {"type": "upload", "id": "u1", "name": "loop.wav", "size": N}, then binary frames with the
     file's bytes (each within the message size limit)     -> {"type": "uploaded", "id": "u1",
                                                              "path": ..., "size": N}; use the
                                                           path as an input (see ws_uploads)

Server -> client: "accepted", "progress", "output", "done", "error" (the core's events,
`Event.as_dict()`), "models", "pong", and "transport" (the clock's state, sent to every client
whenever it changes). An "output" that refers to files (audio, stems, MIDI) carries
"frames": N and is followed by N binary frames, each a 4-byte big-endian header length, a JSON
header {id, index, name, media_type, path, size}, then the file's bytes (see
`ws_messages.binary_frame`); send "binary": false to get paths only.

Errors: {"type": "error", "id": <id or null>, "code": ..., "message": ..., "field": ...}; the
connection stays open. Each client has a bounded send queue: progress and transport news are
dropped for a client that reads too slowly, and a client that cannot keep up even with results
is disconnected (code 1013), so it never holds the others up. Closing a connection cancels its
running requests.

Who may connect is decided by `protocols.access`: on a loopback bind the Host header must be
a loopback name (DNS rebinding guard); a browser's Origin must be the page's own or listed in
`[websocket] origins`, on loopback too (any site open in the user's browser can reach
127.0.0.1); clients that send no Origin pass. Bound to anything but loopback, connections also
need the server's token (`?token=...` in the URL, or `Authorization: Bearer ...`; set
`[server] token`, else one is generated into `<work>/.dawhost-token`).

Plain HTTP GETs on the same port serve the browser controller from `protocols/web/`.

Settings (`[websocket]` table): token (older name of `[server] token`), origins (list),
web_root (folder), send_queue (messages per client, default 256), send_queue_bytes (bytes per
client, default 48 MiB), close_timeout (seconds a too-slow client gets to take the close
frame, default 2), max_message (bytes a client may send, default 1 MiB), uploads_quota (bytes
the uploads folder may hold, default 2 GiB; oldest uploads go first).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response

import host
from host.core import Core
from host.errors import DawhostError, ErrorCode
from host.requests import Event, OutputEvent, Progress, output_paths
from host.transport import TransportSnapshot, subscribe_on_loop
from protocols import access, ws_messages
from protocols.http_gate import single_header
from protocols.ratelimit import LogLimiter
from protocols.static_files import WEB_ROOT, StaticFiles, text_response
from protocols.ws_sender import CLOSE_TIMEOUT, DEFAULT_QUEUE_BYTES, BoundedSender
from protocols.ws_uploads import UPLOADS_QUOTA_BYTES, Upload

log = logging.getLogger(__name__)
# The websockets library logs every connection and HTTP response at INFO: a browser page's
# reloads would bury everything else. Its warnings and errors still show.
logging.getLogger("protocols.websocket.ws").setLevel(logging.WARNING)

MAX_MESSAGE_BYTES = 1024 * 1024
MAX_BINARY_BYTES = 32 * 1024 * 1024  # larger result files are sent as paths only
MAX_CLIENTS = 256


class Client:
    """One connection: its id for the core, its send queue, its running requests."""

    def __init__(
        self,
        name: str,
        connection: ServerConnection,
        queue_limit: int,
        queue_bytes: int = DEFAULT_QUEUE_BYTES,
        close_timeout: float = CLOSE_TIMEOUT,
    ) -> None:
        self.name = name
        self.connection = connection
        self.sender = BoundedSender(connection, queue_limit, queue_bytes, close_timeout)
        self.running: set[str] = set()
        self.upload: Upload | None = None  # a file whose binary frames are arriving
        # (event, request id as the client sent it, whether to send result files as frames)
        self.events: asyncio.Queue[tuple[Event, str | int, bool]] = asyncio.Queue()

    def send_json(self, body: dict[str, Any], droppable: bool = False) -> None:
        self.sender.send(json.dumps(body, default=str), droppable)


class WebSocketFrontend(host.Frontend):
    name = "websocket"

    def __init__(self) -> None:
        self.core: Core | None = None
        self.port = 0
        self.token: str | None = None
        self.clients: dict[ServerConnection, Client] = {}
        self._server: Server | None = None
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Any = None
        self._static = StaticFiles(WEB_ROOT)
        self._policy: access.AccessPolicy | None = None
        self._queue_limit = 256
        self._queue_bytes = DEFAULT_QUEUE_BYTES
        self._close_timeout = CLOSE_TIMEOUT
        self._uploads_quota = UPLOADS_QUOTA_BYTES
        self._log_limiter = LogLimiter(log)

    @property
    def address(self) -> str:
        assert self.core is not None
        return f"ws://{self.core.config.bind}:{self.port}"

    async def start(self, core: Core) -> None:
        self.core = core
        self._loop = asyncio.get_running_loop()
        settings = core.config.sections.get("websocket", {})
        self._static = StaticFiles(Path(settings.get("web_root", WEB_ROOT)))
        self._policy = access.AccessPolicy.for_core(core, "websocket")
        self.token = self._policy.token
        self._queue_limit = int(settings.get("send_queue", 256))
        self._queue_bytes = int(settings.get("send_queue_bytes", DEFAULT_QUEUE_BYTES))
        self._close_timeout = float(settings.get("close_timeout", CLOSE_TIMEOUT))
        self._uploads_quota = int(settings.get("uploads_quota", UPLOADS_QUOTA_BYTES))
        self._server = await serve(
            self._serve_client,
            core.config.bind,
            core.config.ws_port,
            process_request=self._http,
            max_size=int(settings.get("max_message", MAX_MESSAGE_BYTES)),
            close_timeout=2,
            logger=logging.getLogger("protocols.websocket.ws"),
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._unsubscribe = subscribe_on_loop(core.transport, self._loop, self._broadcast_transport)
        log.info(
            "WebSocket on %s (browser page at http://%s:%d/)",
            self.address,
            core.config.bind,
            self.port,
        )

    async def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    # --- HTTP: static files, and the gate for WebSocket upgrades ----------------------------
    async def _http(self, connection: ServerConnection, request: HttpRequest) -> Response | None:
        try:
            upgrade = single_header(request, "Upgrade") or ""
        except ValueError as exc:
            return text_response(HTTPStatus.BAD_REQUEST, f"{exc}\n")
        is_upgrade = upgrade.lower() == "websocket"
        assert self._policy is not None
        # The page's files are public (the page then connects with the token); the Host
        # check still applies to them, so a rebinding site cannot read them either.
        refusal = self._policy.check(request, need_token=is_upgrade, upgrade=is_upgrade)
        if refusal is not None:
            self._log_limiter.warning(
                "refused %s from %s: %s",
                "WebSocket client" if is_upgrade else "HTTP request",
                connection.remote_address,
                refusal.reason,
            )
            return text_response(refusal.status, refusal.reason + "\n")
        if not is_upgrade:
            loop = asyncio.get_running_loop()  # file reads off the loop
            return await loop.run_in_executor(None, self._static.respond, request.path)
        if len(self.clients) >= MAX_CLIENTS:
            return text_response(
                HTTPStatus.SERVICE_UNAVAILABLE, f"too many clients (at most {MAX_CLIENTS})\n"
            )
        return None

    # --- WebSocket ---------------------------------------------------------------------------
    async def _serve_client(self, connection: ServerConnection) -> None:
        client = Client(
            f"ws:{next(self._ids)}",
            connection,
            self._queue_limit,
            self._queue_bytes,
            self._close_timeout,
        )
        self.clients[connection] = client
        pump = asyncio.create_task(self._pump_events(client), name=f"{client.name}-events")
        try:
            async for frame in connection:
                self.handle(client, frame)
        except ConnectionClosed:
            pass
        finally:
            self.clients.pop(connection, None)
            if client.upload is not None:
                client.upload.abort()
            assert self.core is not None
            for request_id in list(client.running):  # nobody is left to receive the results
                self.core.cancel(client.name, request_id)
            pump.cancel()
            await client.sender.aclose()

    def handle(self, client: Client, frame: str | bytes) -> None:
        """Act on one client frame; every problem becomes an `error` message."""
        assert self.core is not None
        if client.sender.closed:
            return  # cut off for reading too slowly: its connection is closing, run nothing new
        message: dict[str, Any] = {}
        try:
            if isinstance(frame, bytes) and client.upload is not None:
                message = {"id": client.upload.id}
                self._receive_chunk(client, frame)
                return
            message = ws_messages.decode(frame)
            kind = message["type"]
            if kind == "generate":
                self._generate(client, message)
            elif kind == "cancel":
                rid = ws_messages.request_id(message)
                if not self.core.cancel(client.name, rid):
                    raise ws_messages.bad(f"no running request {rid!r} to cancel", "id")
            elif kind == "describe":
                client.send_json(
                    {
                        "type": "models",
                        "models": self.core.describe_models(self.name),
                        "transport": self.core.transport.snapshot().as_dict(),
                    }
                )
            elif kind == "transport":
                if not ws_messages.apply_transport(self.core, message):
                    client.send_json(transport_message(self.core.transport.snapshot()))
            elif kind == "ping":
                client.send_json({**message, "type": "pong"})
            elif kind == "upload":
                if client.upload is not None:
                    raise ws_messages.bad(
                        f"upload {client.upload.id!r} is still arriving; send its bytes first", "id"
                    )
                client.upload = Upload(
                    self.core.work, client.name, message, quota=self._uploads_quota
                )
        except DawhostError as exc:
            self._log_limiter.warning("WebSocket %s: %s", client.name, exc.message)
            self._error(client, message, exc.code.value, exc.message, exc.field)
        except Exception as exc:  # a bug here must cost one message, not the connection
            log.exception("WebSocket %s: message handling failed", client.name)
            self._error(
                client,
                message,
                ErrorCode.BAD_REQUEST.value,
                f"the server could not handle this message ({type(exc).__name__})",
            )

    def _receive_chunk(self, client: Client, chunk: bytes) -> None:
        upload = client.upload
        assert upload is not None
        try:
            complete = upload.add(chunk)
        except DawhostError:
            client.upload = None
            upload.abort()
            raise
        if complete:
            client.upload = None
            path = upload.finish()
            client.send_json(
                {"type": "uploaded", "id": upload.id, "path": str(path), "size": upload.size}
            )

    def _error(
        self,
        client: Client,
        message: dict[str, Any],
        code: str,
        text: str,
        field: str | None = None,
    ) -> None:
        rid = message.get("id")
        client.send_json(
            {
                "type": "error",
                "id": rid if isinstance(rid, (str, int)) else None,
                "code": code,
                "message": text,
                "field": field,
            }
        )

    def _generate(self, client: Client, message: dict[str, Any]) -> None:
        assert self.core is not None
        request = ws_messages.generate_request(self.core, message, client.name, self.name)
        want_binary = message.get("binary", True) is not False
        sent_id = message["id"]  # echoed with the type it came in (an int stays an int)

        accepted = False  # this submission's own: a duplicate_id error must not forget the
        # original request with the same id, which still runs and must be cancelled on close

        def sink(event: Event) -> None:
            nonlocal accepted
            if event.type == "accepted":
                accepted = True
                client.running.add(request.request_id)
            elif event.type in ("done", "error") and accepted:
                client.running.discard(request.request_id)
            client.events.put_nowait((event, sent_id, want_binary))

        self.core.submit(request, sink)

    async def _pump_events(self, client: Client) -> None:
        """Send a client's job events in order; result files are read off the loop."""
        loop = asyncio.get_running_loop()
        while True:
            event, sent_id, want_binary = await client.events.get()
            body = {**event.as_dict(), "id": sent_id}
            files = output_paths(event.output) if isinstance(event, OutputEvent) else []
            frames: list[bytes] = []
            if files and want_binary and isinstance(event, OutputEvent):
                try:
                    frames = await loop.run_in_executor(None, _read_frames, event, sent_id, files)
                except OSError as exc:
                    log.error("could not read result files for %s: %s", client.name, exc)
            if files:
                body["frames"] = len(frames)
            client.send_json(body, droppable=isinstance(event, Progress))
            for frame in frames:
                client.sender.send(frame)

    # --- transport broadcast -------------------------------------------------------------------
    def _broadcast_transport(self, snapshot: TransportSnapshot) -> None:
        self._broadcast(transport_message(snapshot))

    def _broadcast(self, body: dict[str, Any]) -> None:
        text = json.dumps(body)
        for client in list(self.clients.values()):
            client.sender.send(text, droppable=True)


def transport_message(snapshot: TransportSnapshot) -> dict[str, Any]:
    return {"type": "transport", **snapshot.as_dict()}


def _read_frames(event: OutputEvent, sent_id: str | int, files: list[Path]) -> list[bytes]:
    frames = []
    names = list(getattr(event.output, "stems", {}) or [event.output.name] * len(files))
    for name, path in zip(names, files, strict=False):
        if path.stat().st_size <= MAX_BINARY_BYTES:
            frames.append(
                ws_messages.binary_frame(sent_id, event.index, name, path, path.read_bytes())
            )
    return frames


@host.hookimpl
def register_frontends() -> Any:
    """The WebSocket front-end (JSON requests, transport broadcast, the browser page)."""
    yield WebSocketFrontend()
