"""Static files for the browser controller, served on the WebSocket port.

Only files inside the web folder are served: the path is decoded, normalised and resolved
(symlinks too), and anything that lands outside, hidden files included, is refused.
"""

from __future__ import annotations

import mimetypes
import posixpath
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import unquote, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Response

WEB_ROOT = Path(__file__).resolve().parent / "web"
MAX_FILE_BYTES = 32 * 1024 * 1024

# Explicit types for what a browser page uses; mimetypes' table varies between systems.
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
    ".wav": "audio/wav",
    ".mid": "audio/midi",
    ".midi": "audio/midi",
    ".txt": "text/plain; charset=utf-8",
    ".maxpat": "application/json",
}


def media_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in MEDIA_TYPES:
        return MEDIA_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


@dataclass(frozen=True)
class StaticFiles:
    root: Path = WEB_ROOT

    def locate(self, target: str) -> Path | HTTPStatus:
        """The file a request target names, or the status explaining why there is none."""
        raw_path = urlsplit(target).path
        path = unquote(raw_path)
        if "\x00" in path or "\\" in path or not path.startswith("/"):
            return HTTPStatus.BAD_REQUEST
        normal = posixpath.normpath(path)
        if any(part in ("..", ".") or part.startswith(".") for part in path.split("/") if part):
            return HTTPStatus.FORBIDDEN
        relative = normal.lstrip("/") or "index.html"
        if raw_path.endswith("/") and relative != "index.html":
            relative = posixpath.join(relative, "index.html")
        root = self.root.resolve()
        candidate = (root / relative).resolve()
        if not candidate.is_relative_to(root):
            return HTTPStatus.FORBIDDEN  # a symlink pointing out of the web folder
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if not candidate.is_file():
            return HTTPStatus.NOT_FOUND
        return candidate

    def respond(self, target: str) -> Response:
        found = self.locate(target)
        if isinstance(found, HTTPStatus):
            return text_response(found, _REASONS.get(found, found.phrase))
        size = found.stat().st_size
        if size > MAX_FILE_BYTES:
            return text_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "file too large to serve")
        body = found.read_bytes()
        headers = Headers(
            [
                ("Content-Type", media_type(found)),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-cache"),
                ("X-Content-Type-Options", "nosniff"),
                ("Connection", "close"),
            ]
        )
        return Response(HTTPStatus.OK.value, "OK", headers, body)


_REASONS = {
    HTTPStatus.NOT_FOUND: "not found (the browser page lives in protocols/web/)\n",
    HTTPStatus.FORBIDDEN: "forbidden: only files inside the web folder are served\n",
    HTTPStatus.BAD_REQUEST: "bad request path\n",
}


def text_response(status: HTTPStatus, text: str) -> Response:
    body = text.encode()
    headers = Headers(
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ]
    )
    return Response(status.value, status.phrase, headers, body)
