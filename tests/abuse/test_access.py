"""Issue #20 items 1 and 2: every TCP wire checks Host (DNS rebinding), Origin and, off
loopback, the token; OSCQuery never answers with wildcard CORS."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from protocols import access
from tests.abuse.raw_http import handshake_status, request, upgrade_headers
from tests.fakes import EchoContinuer
from tests.protocols.osc_client import osc_server
from tests.protocols.ws_client import next_json, ws_server

EVIL = "attacker.example"


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


@pytest.mark.parametrize(
    "host,accepted",
    [
        (f"{EVIL}:{{port}}", False),
        ("127.0.0.1.attacker.example:{port}", False),
        ("localhost:{port}", True),
        ("127.0.0.1:{port}", True),
        ("[::1]:{port}", True),
        ("app.localhost:{port}", True),
    ],
)
def test_dns_rebinding_is_refused_on_every_port(tmp_path: Path, host: str, accepted: bool) -> None:
    """The attack: a page of attacker.example re-points its name at 127.0.0.1 and connects
    with Host and Origin both attacker.example; an Origin equal to Host used to pass."""

    async def main() -> list[int]:
        async with (
            ws_server(tmp_path / "ws", EchoContinuer()) as (_, ws),
            osc_server(tmp_path / "osc", EchoContinuer()) as (osc_core, osc),
        ):
            statuses = []
            for port in (ws.port, osc_core.services["oscquery"].port):
                name = host.format(port=port)
                origin = f"http://{name}"
                statuses.append(await handshake_status(port, name, origin))  # WebSocket
                statuses.append((await request(port, "/", {"Host": name}))[0])  # page / JSON
            return statuses

    statuses = run(main())
    if accepted:
        assert statuses == [101, 200, 101, 200]
    else:
        assert statuses == [403, 403, 403, 403]


def test_a_rebinding_page_is_told_why(tmp_path: Path) -> None:
    async def main() -> tuple[int, str]:
        async with ws_server(tmp_path, EchoContinuer()) as (_, ws):
            name = f"{EVIL}:{ws.port}"
            status, _, body = await request(ws.port, "/", upgrade_headers(name, f"http://{name}"))
            return status, body.decode()

    status, body = run(main())
    assert status == 403 and "not a loopback name" in body


def test_oscquery_has_no_wildcard_cors(tmp_path: Path) -> None:
    async def main() -> list[dict[str, str]]:
        async with osc_server(tmp_path, EchoContinuer()) as (core, osc):
            port = core.services["oscquery"].port
            own = f"http://127.0.0.1:{port}"
            listed = "http://controller.example"
            core.services["oscquery"]._policy.origins.add(listed)
            return [
                (await request(port, "/", {}))[1],
                (await request(port, "/", {"Origin": "http://evil.example"}))[1],
                (await request(port, "/", {"Origin": own}))[1],
                (await request(port, "/?HOST_INFO", {"Origin": listed}))[1],
            ]

    plain, evil, own, listed = run(main())
    assert "access-control-allow-origin" not in plain
    assert "access-control-allow-origin" not in evil  # another site's page cannot read it
    assert own["access-control-allow-origin"].startswith("http://127.0.0.1:")
    assert listed["access-control-allow-origin"] == "http://controller.example"
    assert all(h.get("access-control-allow-origin") != "*" for h in (plain, evil, own, listed))


def test_off_loopback_oscquery_needs_the_token_for_http_and_websocket(
    tmp_path: Path, off_loopback: None, caplog: pytest.LogCaptureFixture
) -> None:
    """The attack: with --bind 0.0.0.0 the OSCQuery WebSocket upgraded without the token and
    ran jobs from OSC frames."""
    caplog.set_level(logging.INFO)

    async def main() -> dict[str, object]:
        async with osc_server(tmp_path, EchoContinuer()) as (core, osc):
            port = core.services["oscquery"].port
            token = access.server_token(core)
            assert token is not None
            bearer = {"Authorization": f"Bearer {token}"}
            found: dict[str, object] = {
                "token": token,
                "http without": (await request(port, "/"))[0],
                "http wrong": (await request(port, "/", {"Authorization": "Bearer nope"}))[0],
                "http bearer": (await request(port, "/", bearer))[0],
                "value with query token": json.loads(
                    (await request(port, f"/dawhost/transport/tempo?VALUE&token={token}"))[2]
                ),
                "ws without": await handshake_status(port, f"127.0.0.1:{port}"),
                "ws with": await handshake_status(
                    port, f"127.0.0.1:{port}", target=f"/?token={token}"
                ),
            }
            try:
                async with connect(f"ws://127.0.0.1:{port}/"):
                    found["osc frames without token"] = "ran"
            except InvalidStatus as exc:
                found["osc frames without token"] = exc.response.status_code
            return found

    found = run(main())
    token = str(found["token"])
    assert found["http without"] == found["http wrong"] == 401
    assert found["http bearer"] == 200
    assert found["value with query token"] == {"VALUE": [120.0]}
    assert found["ws without"] == 401 and found["ws with"] == 101
    assert found["osc frames without token"] == 401
    assert token not in caplog.text and token[: access.TOKEN_SHOWN] in caplog.text


def test_one_token_serves_every_wire_of_a_server(tmp_path: Path, off_loopback: None) -> None:
    async def main() -> tuple[str | None, str | None, bool]:
        async with ws_server(tmp_path, EchoContinuer()) as (core, ws):
            token = access.server_token(core)
            async with connect(
                f"ws://127.0.0.1:{ws.port}/",
                additional_headers={"Authorization": f"Bearer {token}"},
            ) as conn:
                await conn.send(json.dumps({"type": "ping"}))
                pong = (await next_json(conn, "pong"))["type"] == "pong"
            return ws.token, token, pong

    ws_token, core_token, pong = run(main())
    assert ws_token == core_token and pong


def test_a_configured_token_is_never_logged(
    tmp_path: Path, off_loopback: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def main() -> None:
        settings = {"sections": {"server": {"token": "correct-horse-battery"}}}
        async with ws_server(tmp_path, EchoContinuer(), **settings) as (_, ws):
            try:
                async with connect(f"ws://127.0.0.1:{ws.port}/?token=wrong-guess"):
                    pass
            except InvalidStatus:
                pass
            async with connect(f"ws://127.0.0.1:{ws.port}/?token=correct-horse-battery"):
                pass

    run(main())
    server_lines = [
        r.getMessage() for r in caplog.records if r.name.split(".")[0] in ("protocols", "host")
    ]
    assert server_lines  # the refusal was logged ...
    assert not any("correct-horse" in line or "wrong-guess" in line for line in server_lines)
