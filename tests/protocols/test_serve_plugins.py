"""Both front-ends load through the manifest's plugin path and serve side by side under
`host.serve.serve`, sharing one transport; mDNS advertisement, on the loopback interface only."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from host.config import ServerConfig
from host.serve import serve
from protocols.mdns import OSC_SERVICE, OSCQUERY_SERVICE, service_records
from tests.protocols.crash_check import no_handler_crashes  # noqa: F401
from tests.protocols.http_client import http_get
from tests.protocols.osc_client import osc_client, osc_server
from tests.protocols.ws_client import next_json


def test_serve_starts_osc_oscquery_and_websocket_from_the_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        '[plugins.osc]\nmodule = "protocols.osc"\n\n'
        '[plugins.oscquery]\nmodule = "protocols.oscquery"\n\n'
        '[plugins.websocket]\nmodule = "protocols.websocket"\n\n'
        '[plugins.fakes]\nmodule = "tests.fakes"\n'
    )
    config = ServerConfig(
        work_dir=tmp_path / "work",
        manifest=manifest,
        midi=False,
        osc_port=0,
        oscquery_port=0,
        ws_port=0,
        reply_port=9,
    )

    async def main() -> dict[str, Any]:
        stop = asyncio.Event()
        ready: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        server = asyncio.create_task(serve(config, stop, lambda core, fes: ready.set_result(fes)))
        frontends = {f.name: f for f in await asyncio.wait_for(ready, 10)}
        osc, ws = frontends["osc"], frontends["websocket"]
        async with osc_client(osc.port) as client, connect(f"ws://127.0.0.1:{ws.port}/") as conn:
            client.send("/dawhost/transport/tempo", 77.0)  # OSC changes the shared clock ...
            news = await next_json(conn, "transport")  # ... and the browser hears it
            client.send("/dawhost/fake-echo/continue", 1, "primer", 60, 100, 0, 1)
            replies = await client.until_end(1)
            tempo = json.loads(
                (await http_get(frontends["oscquery"].port, "/dawhost/transport/tempo?VALUE"))[2]
            )
        stop.set()
        code = await asyncio.wait_for(server, 10)
        return {
            "names": sorted(frontends),
            "news": news,
            "last": replies[-1].address,
            "tempo": tempo,
            "code": code,
        }

    result = asyncio.run(main())
    assert {"osc", "websocket"} <= set(result["names"])
    assert result["news"]["tempo"] == 77.0 and result["tempo"] == {"VALUE": [77.0]}
    assert result["last"] == "/dawhost/done" and result["code"] == 0


def test_mdns_records_name_both_services_and_ports() -> None:
    records = service_records("127.0.0.1", 9000, 9002)
    assert [(r["type"], r["port"]) for r in records] == [
        (OSCQUERY_SERVICE, 9002),
        (OSC_SERVICE, 9000),
    ]
    assert records[0]["addresses"] == [bytes([127, 0, 0, 1])]
    assert records[0]["name"] == "dawhost._oscjson._tcp.local."


def test_mdns_advertises_oscquery_and_osc_on_loopback(tmp_path: Path) -> None:
    """With `mdns = true` and bound to loopback, nothing reaches the network."""
    pytest.importorskip("zeroconf")
    from zeroconf.asyncio import AsyncZeroconf

    async def main() -> tuple[Any, Any, int, int]:
        async with osc_server(tmp_path, mdns=True) as (core, osc):
            browser = AsyncZeroconf(interfaces=["127.0.0.1"])
            try:
                found = [
                    await browser.async_get_service_info(kind, f"dawhost.{kind}", timeout=5000)
                    for kind in (OSCQUERY_SERVICE, OSC_SERVICE)
                ]
            finally:
                await browser.async_close()
            return (
                *[info and (info.port, info.parsed_addresses()) for info in found],
                core.services["oscquery"].port,
                osc.port,
            )

    oscquery, osc, oscquery_port, osc_port = asyncio.run(main())
    assert oscquery == (oscquery_port, ["127.0.0.1"])
    assert osc == (osc_port, ["127.0.0.1"])
