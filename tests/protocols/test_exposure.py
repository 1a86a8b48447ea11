"""The manifest's per-front-end `expose` lists: a model offered only over WebSocket is absent
from OSC, OSCQuery and `/dawhost/models`, and present in the WebSocket `describe`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from host.config import Manifest, ModelSettings, ServerConfig
from host.core import Core
from protocols.osc import OscFrontend
from protocols.oscquery import OscQueryServer
from protocols.websocket import WebSocketFrontend
from tests.fakes import EchoContinuer, SlowModel
from tests.protocols.crash_check import no_handler_crashes  # noqa: F401
from tests.protocols.http_client import http_get
from tests.protocols.osc_client import osc_client
from tests.protocols.ws_client import next_json


def test_expose_lists_limit_each_front_end(tmp_path: Path) -> None:
    manifest = Manifest((), {"fake-slow": ModelSettings(expose=("websocket",))})
    config = ServerConfig(work_dir=tmp_path, osc_port=0, oscquery_port=0, ws_port=0, reply_port=9)
    models = {m.model_id: m for m in (EchoContinuer(), SlowModel())}

    async def main() -> dict[str, Any]:
        core = Core(config, models, manifest)
        osc, oscquery, ws = OscFrontend(), OscQueryServer(), WebSocketFrontend()
        await osc.start(core)
        await oscquery.start(core)
        await ws.start(core)
        try:
            async with (
                osc_client(osc.port) as client,
                connect(f"ws://127.0.0.1:{ws.port}/") as conn,
            ):
                client.send("/dawhost/fake-slow/render", 1, "seconds", 0.1)
                refused = (await client.expect("/dawhost/error")).args
                client.send("/dawhost/fake-slow/options/seconds", 1.0)
                option_refused = (await client.expect("/dawhost/error")).args
                client.send("/dawhost/models")
                listed = (await client.expect("/dawhost/models")).args
                tree_status = (await http_get(oscquery.port, "/dawhost/fake-slow"))[0]
                await conn.send(json.dumps({"type": "describe"}))
                described = [m["id"] for m in (await next_json(conn, "models"))["models"]]
                await conn.send(
                    json.dumps(
                        {
                            "type": "generate",
                            "id": "w",
                            "model": "fake-slow",
                            "options": {"seconds": 0.05},
                        }
                    )
                )
                accepted = await next_json(conn)
            return {
                "refused": refused,
                "option_refused": option_refused,
                "listed": listed,
                "tree": tree_status,
                "described": described,
                "accepted": accepted["type"],
            }
        finally:
            await ws.stop()
            await oscquery.stop()
            await osc.stop()
            await core.shutdown()

    result = asyncio.run(main())
    assert result["refused"][1] == "unknown_model" and "OSC" in result["refused"][2]
    assert result["option_refused"][1] == "unknown_model"
    assert result["listed"] == (1, "fake-echo")
    assert result["tree"] == 404
    assert sorted(result["described"]) == ["fake-echo", "fake-slow"]
    assert result["accepted"] == "accepted"
