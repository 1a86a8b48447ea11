"""Who may open a WebSocket on dawhost's ports: checks shared by the WebSocket front-end and
the OSCQuery server, on loopback too (a page from any site, open in the user's browser, can
reach 127.0.0.1; only its Origin header tells it apart from the controller page)."""

from __future__ import annotations

from urllib.parse import urlsplit

from websockets.http11 import Request


def single_header(request: Request, name: str) -> str | None:
    """A header that must appear at most once (a repeated Origin could smuggle a second one)."""
    values = request.headers.get_all(name)
    if len(values) > 1:
        raise ValueError(f"header {name} appears {len(values)} times")
    return values[0] if values else None


def foreign_origin(request: Request, allowed: set[str], setting: str) -> str | None:
    """Why a WebSocket upgrade from a browser page of another site is refused, or None.

    Clients that send no Origin (Max, Python, command-line tools) pass; so do pages served
    by this host and port, and origins listed in `setting`."""
    try:
        origin = single_header(request, "Origin")
        host_header = single_header(request, "Host") or ""
    except ValueError as exc:
        return str(exc)
    if origin is None or origin in allowed or urlsplit(origin).netloc == host_header:
        return None
    return f"origin {origin!r} is not allowed; add it to {setting}"
