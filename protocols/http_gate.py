"""Header helpers for dawhost's HTTP gates (the checks themselves are `protocols.access`)."""

from __future__ import annotations

from websockets.http11 import Request


def single_header(request: Request, name: str) -> str | None:
    """A header that must appear at most once (a repeated Origin could smuggle a second one)."""
    values = request.headers.get_all(name)
    if len(values) > 1:
        raise ValueError(f"header {name} appears {len(values)} times")
    return values[0] if values else None
