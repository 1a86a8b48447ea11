"""The browser page's files on the WebSocket port: content types, and no way out of the folder."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from protocols.static_files import StaticFiles
from tests.protocols.crash_check import no_handler_crashes  # noqa: F401
from tests.protocols.http_client import http_get
from tests.protocols.ws_client import ws_server


@pytest.fixture
def web_root(tmp_path: Path) -> Path:
    root = tmp_path / "web"
    (root / "lib").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>dawhost</title>")
    (root / "app.js").write_text("export const x = 1;")
    (root / "style.css").write_text("body { margin: 0 }")
    (root / "lib" / "icon.svg").write_text("<svg/>")
    (root / "lib" / "mod.wasm").write_bytes(b"\x00asm\x01\x00\x00\x00")
    (root / ".env").write_text("SECRET=1")
    (tmp_path / "secret.txt").write_text("top secret")
    (root / "escape.txt").symlink_to(tmp_path / "secret.txt")
    return root


def fetch_all(
    tmp_path: Path, root: Path, targets: list[str]
) -> list[tuple[int, dict[str, str], bytes]]:
    async def main() -> list[Any]:
        settings = {"sections": {"websocket": {"web_root": str(root)}}}
        async with ws_server(tmp_path, **settings) as (_, ws):
            return [await http_get(ws.port, target) for target in targets]

    return asyncio.run(main())


def test_files_are_served_with_their_content_types(tmp_path: Path, web_root: Path) -> None:
    targets = [
        "/",
        "/index.html",
        "/app.js",
        "/style.css",
        "/lib/icon.svg",
        "/lib/mod.wasm",
        "/app.js?v=3",
    ]
    results = dict(zip(targets, fetch_all(tmp_path, web_root, targets), strict=True))
    assert results["/"][0] == 200 and results["/"][2].startswith(b"<!doctype html>")
    types = {target: headers["content-type"] for target, (_, headers, _) in results.items()}
    assert types["/"] == types["/index.html"] == "text/html; charset=utf-8"
    assert types["/app.js"] == types["/app.js?v=3"] == "text/javascript; charset=utf-8"
    assert types["/style.css"] == "text/css; charset=utf-8"
    assert types["/lib/icon.svg"] == "image/svg+xml"
    assert types["/lib/mod.wasm"] == "application/wasm"
    assert results["/lib/mod.wasm"][2] == b"\x00asm\x01\x00\x00\x00"
    assert all(int(h["content-length"]) == len(b) for _, h, b in results.values())


def test_path_traversal_and_hidden_files_are_refused(tmp_path: Path, web_root: Path) -> None:
    targets = [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/lib/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/.env",
        "/escape.txt",
        "/%00index.html",
        "/missing.js",
        "/lib/",
        "//etc/passwd",
    ]
    results = dict(zip(targets, fetch_all(tmp_path, web_root, targets), strict=True))
    for target, (status, _, body) in results.items():
        assert status in (400, 403, 404), (target, status)
        assert b"top secret" not in body and b"SECRET" not in body
    assert results["/missing.js"][0] == 404
    assert results["/escape.txt"][0] == 403  # a symlink out of the folder


def test_locate_without_sockets(tmp_path: Path, web_root: Path) -> None:
    files = StaticFiles(web_root)
    assert files.locate("/lib/icon.svg") == (web_root / "lib" / "icon.svg").resolve()
    assert files.locate("/") == (web_root / "index.html").resolve()
    assert not isinstance(files.locate("/lib/../app.js"), Path)  # ".." refused even if inside
