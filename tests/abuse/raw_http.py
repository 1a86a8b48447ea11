"""A raw HTTP/1.1 request with any headers, Host included, as an attacker's page would send."""

from __future__ import annotations

import asyncio


async def request(
    port: int, target: str, headers: dict[str, str] | None = None, timeout: float = 5.0
) -> tuple[int, dict[str, str], bytes]:
    """Send exactly these headers (Host defaults to 127.0.0.1:port) and read the answer."""
    lines = [f"GET {target} HTTP/1.1"]
    given = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    lines += [f"{name}: {value}" for name, value in given.items()]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *rest = head.decode("latin-1").split("\r\n")
    answer = {}
    for line in rest:
        name, _, value = line.partition(":")
        answer[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), answer, body


def upgrade_headers(host: str, origin: str | None = None) -> dict[str, str]:
    """The headers of a WebSocket handshake (the server answers 101 or refuses)."""
    headers = {
        "Host": host,
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    if origin is not None:
        headers["Origin"] = origin
    return headers


async def handshake_status(
    port: int, host: str, origin: str | None = None, target: str = "/"
) -> int:
    """The status of a WebSocket handshake (101 when accepted); the connection is dropped."""
    lines = [f"GET {target} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in upgrade_headers(host, origin).items()]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5.0)
    finally:
        writer.close()
    return int(status_line.split()[1])
