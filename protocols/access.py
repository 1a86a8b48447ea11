"""Who may talk to dawhost's TCP ports (WebSocket, the browser page, OSCQuery HTTP and its
WebSocket): one gate shared by every front-end, so each wire asks the same questions.

- On a loopback bind the `Host` header must name loopback (`localhost`, `*.localhost`,
  `127.x.x.x`, `[::1]`): a page of another site that re-points its own DNS name at 127.0.0.1
  (DNS rebinding) sends its own name as `Host` and is refused with 403.
- Off loopback every request needs the server's token (`Authorization: Bearer ...` or
  `token=...` in the query string); one token serves every wire of a server. Without a
  configured `[server] token` one is generated, written to `<work>/.dawhost-token` (mode 0600)
  and only its first characters are logged.
- A browser's `Origin` (WebSocket upgrades, CORS) must be this server's own page or listed in
  the front-end's `origins` setting; CORS answers name that origin, never `*`.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
import weakref
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.http11 import Request

from host.core import Core
from protocols.http_gate import single_header

log = logging.getLogger(__name__)

TOKEN_FILE = ".dawhost-token"
TOKEN_SHOWN = 4  # characters of the token a log line may show
_TOKENS: weakref.WeakKeyDictionary[Core, str] = weakref.WeakKeyDictionary()


def is_loopback(bind: str) -> bool:
    """True when a bind address (or a host name from a header) can only be reached from this
    machine."""
    name = bind.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def loopback_only(bind: str) -> bool:
    """True when the server is bound to loopback only (tests replace this to play a server
    bound to every interface while staying on 127.0.0.1)."""
    return is_loopback(bind)


def host_name(header: str) -> str:
    """The name part of a Host header value (`[::1]:8765` -> `[::1]`, `a.b:80` -> `a.b`)."""
    if header.startswith("["):
        end = header.find("]")
        return header[: end + 1] if end > 0 else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def redacted(token: str) -> str:
    return f"{token[:TOKEN_SHOWN]}... ({len(token)} characters)"


def server_token(core: Core) -> str | None:
    """The token every TCP wire of this server asks for, or None on a loopback bind.

    `[server] token` (or the older `[websocket] token`) when set; else one generated per core,
    saved to `<work>/.dawhost-token` for the user to read, and logged only in part."""
    if loopback_only(core.config.bind):
        return None
    if core in _TOKENS:
        return _TOKENS[core]
    sections = core.config.sections
    configured = sections.get("server", {}).get("token") or sections.get("websocket", {}).get(
        "token"
    )
    token = str(configured) if configured else secrets.token_urlsafe(24)
    if not configured:
        path = _save_token(core.work.root, token)
        log.warning(
            "bound to %s: every client needs the token %s; read it from %s "
            "(or set [server] token in the config)",
            core.config.bind,
            redacted(token),
            path,
        )
    _TOKENS[core] = token
    return token


def _save_token(folder: Path, token: str) -> Path:
    path = folder / TOKEN_FILE
    path.unlink(missing_ok=True)  # a fresh file, created 0600 (an old one may be wider)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return path


@dataclass
class Refusal:
    status: HTTPStatus
    reason: str


@dataclass
class AccessPolicy:
    """The checks for one TCP port; `setting` names where extra origins are listed."""

    bind: str
    token: str | None
    origins: set[str] = field(default_factory=set)
    setting: str = "origins"

    @classmethod
    def for_core(cls, core: Core, section: str) -> AccessPolicy:
        settings: dict[str, Any] = core.config.sections.get(section, {})
        return cls(
            core.config.bind,
            server_token(core),
            set(settings.get("origins", [])),
            f"[{section}] origins",
        )

    @property
    def loopback(self) -> bool:
        return loopback_only(self.bind)

    def check(
        self, request: Request, need_token: bool = True, upgrade: bool = False
    ) -> Refusal | None:
        """Why this request is refused, or None. `need_token=False` for public static files
        (the browser page, which then connects with the token); `upgrade` for WebSocket
        handshakes, which also need an acceptable Origin."""
        try:
            host_header = single_header(request, "Host") or ""
            origin = single_header(request, "Origin")
            auth = single_header(request, "Authorization") or ""
        except ValueError as exc:
            return Refusal(HTTPStatus.BAD_REQUEST, str(exc))
        if self.loopback and not is_loopback(host_name(host_header)):
            return Refusal(
                HTTPStatus.FORBIDDEN,
                f"Host {clip(host_header)!r} is not a loopback name: this server is bound to "
                f"{self.bind} and answers only requests addressed to localhost or 127.0.0.1",
            )
        if need_token and self.token is not None and not self.token_ok(request.path, auth):
            return Refusal(
                HTTPStatus.UNAUTHORIZED,
                "a valid token is required (Authorization: Bearer <token> or ?token=<token>; "
                f"it is in {TOKEN_FILE} in the server's work folder)",
            )
        if upgrade and origin is not None and not self.origin_ok(origin, host_header):
            return Refusal(
                HTTPStatus.FORBIDDEN,
                f"origin {clip(origin)!r} is not allowed; add it to {self.setting}",
            )
        return None

    def token_ok(self, target: str, auth: str) -> bool:
        assert self.token is not None
        offered = offered_token(target)
        if auth.startswith("Bearer "):
            offered = auth[len("Bearer ") :].strip()
        return hmac.compare_digest(offered.encode(), self.token.encode())

    def origin_ok(self, origin: str, host_header: str) -> bool:
        """A listed origin, or this server's own page (same host and port as `Host`)."""
        return origin in self.origins or urlsplit(origin).netloc == host_header != ""

    def cors_origin(self, request: Request) -> str | None:
        """The origin a CORS answer may name (an allowed one), or None for no CORS header."""
        try:
            origin = single_header(request, "Origin")
            host_header = single_header(request, "Host") or ""
        except ValueError:
            return None
        if origin is not None and self.origin_ok(origin, host_header):
            return origin
        return None


def offered_token(target: str) -> str:
    query = urlsplit(target).query
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "token":
            return value
    return ""


def without_token(target: str) -> str:
    """The request target with any `token=...` query part removed (OSCQuery reads the query
    as an attribute name, e.g. `?VALUE`)."""
    parts = urlsplit(target)
    kept = [p for p in parts.query.split("&") if p and not p.startswith("token=")]
    return parts.path + ("?" + "&".join(kept) if kept else "")


def clip(text: str, limit: int = 120) -> str:
    """A client-supplied string short enough for a log line or an error message."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
