"""OSCQuery over real sockets: the namespace JSON (attribute names from the OSCQuery
proposal), HOST_INFO, single-attribute queries, LISTEN streams and PATH_ADDED/REMOVED."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from host.transport import TransportSource
from protocols.osc_wire import decode_packet, encode_message
from tests.fakes import EchoContinuer, SineRenderer
from tests.protocols.crash_check import no_handler_crashes  # noqa: F401
from tests.protocols.http_client import http_get
from tests.protocols.osc_client import osc_client, osc_server

SPEC_ATTRIBUTES = {
    "FULL_PATH",
    "CONTENTS",
    "TYPE",
    "ACCESS",
    "VALUE",
    "RANGE",
    "DESCRIPTION",
    "CLIPMODE",
}


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [node]
    for child in node.get("CONTENTS", {}).values():
        nodes += walk(child)
    return nodes


def test_namespace_describes_models_options_and_transport(tmp_path: Path) -> None:
    async def main() -> tuple[Any, ...]:
        async with osc_server(tmp_path) as (core, osc):
            port = core.services["oscquery"].port
            core.transport.set_tempo(100.0)
            root = await http_get(port, "/")
            info = await http_get(port, "/?HOST_INFO")
            return json.loads(root[2]), root[1], json.loads(info[2]), osc.port

    root, headers, info, osc_port = run(main())
    assert headers["content-type"] == "application/json"
    nodes = walk(root)
    assert all(set(n) <= SPEC_ATTRIBUTES for n in nodes)
    assert all(n["FULL_PATH"].startswith("/") and n["ACCESS"] in (0, 1, 2, 3) for n in nodes)
    by_path = {n["FULL_PATH"]: n for n in nodes}
    repeats = by_path["/dawhost/fake-echo/options/repeats"]
    assert repeats["TYPE"] == "i" and repeats["RANGE"] == [{"MIN": 1, "MAX": 8}]
    assert repeats["VALUE"] == [1] and repeats["ACCESS"] == 3 and repeats["CLIPMODE"] == "none"
    assert repeats["DESCRIPTION"] == "How many times to repeat the primer"
    assert by_path["/dawhost/fake-echo/options/temperature"]["TYPE"] == "f"
    assert by_path["/dawhost/fake-echo/continue"]["ACCESS"] == 2
    assert "/dawhost/fake-sine/render" in by_path and "/dawhost/fake-slow/render" in by_path
    tempo = by_path["/dawhost/transport/tempo"]
    assert tempo["VALUE"] == [100.0] and tempo["RANGE"] == [{"MIN": 20.0, "MAX": 999.0}]
    assert by_path["/dawhost/transport/signature"]["TYPE"] == "ii"
    assert by_path["/dawhost/transport/playing"]["VALUE"] == [False]
    assert info["OSC_PORT"] == osc_port and info["OSC_TRANSPORT"] == "UDP"
    assert info["EXTENSIONS"]["LISTEN"] is True and info["EXTENSIONS"]["PATH_ADDED"] is True


def test_single_node_and_attribute_queries(tmp_path: Path) -> None:
    async def main() -> dict[str, Any]:
        async with osc_server(tmp_path) as (core, osc):
            port = core.services["oscquery"].port
            targets = [
                "/dawhost/transport/tempo",
                "/dawhost/transport/tempo?VALUE",
                "/dawhost/fake-echo/options/repeats?RANGE",
                "/dawhost/nothing",
                "/dawhost/transport/tempo?BOGUS",
                "/dawhost/transport/play?VALUE",
            ]
            return {t: await http_get(port, t) for t in targets}

    results = run(main())
    node = json.loads(results["/dawhost/transport/tempo"][2])
    assert node["FULL_PATH"] == "/dawhost/transport/tempo" and node["TYPE"] == "f"
    assert json.loads(results["/dawhost/transport/tempo?VALUE"][2]) == {"VALUE": [120.0]}
    assert json.loads(results["/dawhost/fake-echo/options/repeats?RANGE"][2]) == {
        "RANGE": [{"MIN": 1, "MAX": 8}]
    }
    assert results["/dawhost/nothing"][0] == 404
    assert results["/dawhost/transport/tempo?BOGUS"][0] == 400
    assert results["/dawhost/transport/play?VALUE"][0] == 204  # play has no value


def test_listen_streams_transport_options_and_progress(tmp_path: Path) -> None:
    async def main() -> tuple[list[Any], Any]:
        async with osc_server(tmp_path) as (core, osc), osc_client(osc.port) as client:
            async with connect(f"ws://127.0.0.1:{core.services['oscquery'].port}/") as ws:
                for path in (
                    "/dawhost/transport/tempo",
                    "/dawhost/progress",
                    "/dawhost/fake-echo/options/repeats",
                ):
                    await ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": path}))
                await ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/no/such/path"}))
                problem = json.loads(await ws.recv())
                core.transport.set_tempo(132.0, TransportSource.NETWORK)
                client.send("/dawhost/fake-echo/options/repeats", 2)
                client.send("/dawhost/fake-echo/continue", 1, "primer", 60, 100, 0, 1)
                await client.until_end(1)
                seen = []
                async with asyncio.timeout(5):
                    while len({m.address for m in seen}) < 3 or seen[-1].args[1:2] != (1.0,):
                        seen += decode_packet(await ws.recv())
                await ws.send(json.dumps({"COMMAND": "IGNORE", "DATA": "/dawhost/progress"}))
                return seen, problem

    seen, problem = run(main())
    assert problem["COMMAND"] == "ERROR" and "/no/such/path" in problem["DATA"]
    by_address: dict[str, list[Any]] = {}
    for message in seen:
        by_address.setdefault(message.address, []).append(message.args)
    assert by_address["/dawhost/transport/tempo"][0] == (132.0,)
    assert by_address["/dawhost/fake-echo/options/repeats"][0] == (2,)
    assert by_address["/dawhost/progress"][-1][0] == "1"
    assert by_address["/dawhost/progress"][-1][:2] == ("1", 1.0)


def test_models_added_and_removed_at_run_time_are_announced(tmp_path: Path) -> None:
    async def main() -> tuple[list[Any], int, int]:
        async with osc_server(tmp_path, EchoContinuer()) as (core, osc):
            port = core.services["oscquery"].port
            async with connect(f"ws://127.0.0.1:{port}/") as ws:
                core.add_model(SineRenderer())
                added = json.loads(await ws.recv())
                present = (await http_get(port, "/dawhost/fake-sine"))[0]
                core.remove_model("fake-sine")
                removed = json.loads(await ws.recv())
                gone = (await http_get(port, "/dawhost/fake-sine"))[0]
                return [added, removed], present, gone

    (added, removed), present, gone = run(main())
    assert added == {"COMMAND": "PATH_ADDED", "DATA": "/dawhost/fake-sine"}
    assert removed == {"COMMAND": "PATH_REMOVED", "DATA": "/dawhost/fake-sine"}
    assert (present, gone) == (200, 404)


def test_osc_packets_over_the_listen_socket_write_values_and_get_replies(tmp_path: Path) -> None:
    async def main() -> tuple[float, list[Any], list[Any]]:
        async with osc_server(tmp_path) as (core, osc):
            async with connect(f"ws://127.0.0.1:{core.services['oscquery'].port}/") as ws:
                await ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/dawhost/transport/tempo"}))
                await ws.send(encode_message("/dawhost/transport/tempo", [101.0]))
                echoed = decode_packet(await ws.recv())  # the LISTEN stream reports it
                await ws.send(
                    encode_message("/dawhost/fake-echo/continue", ["ws-1", "primer", 60, 100, 0, 1])
                )
                replies = []
                async with asyncio.timeout(5):
                    while not replies or replies[-1].address != "/dawhost/done":
                        replies += decode_packet(await ws.recv())
                await ws.send(b"\x00garbage")
                error = decode_packet(await ws.recv())
                return core.transport.tempo, echoed + replies, error

    tempo, replies, error = run(main())
    assert tempo == 101.0
    assert replies[0].address == "/dawhost/transport/tempo" and replies[0].args == (101.0,)
    addresses = [m.address for m in replies if m.args and m.args[0] == "ws-1"]
    assert addresses[0] == "/dawhost/accepted" and "/dawhost/note" in addresses
    assert error[0].address == "/dawhost/error" and "malformed" in error[0].args[2]


@pytest.mark.parametrize(
    "origin,accepted",
    [
        (None, True),  # Max, scripts: no Origin header
        ("http://evil.example", False),  # another site's page in the user's browser
        ("http://allowed.example", True),  # listed in [oscquery] origins
    ],
)
def test_listen_sockets_from_other_sites_pages_are_refused(
    tmp_path: Path, origin: str | None, accepted: bool
) -> None:
    async def main() -> tuple[bool, float]:
        settings = {"sections": {"oscquery": {"origins": ["http://allowed.example"]}}}
        async with osc_server(tmp_path, **settings) as (core, osc):
            try:
                async with connect(
                    f"ws://127.0.0.1:{core.services['oscquery'].port}/", origin=origin
                ) as ws:  # type: ignore[arg-type]
                    await ws.send(encode_message("/dawhost/transport/tempo", [77.0]))
                    await ws.send(encode_message("/dawhost/ping", []))
                    await ws.recv()  # the pong: the tempo message was handled before it
                    return True, core.transport.tempo
            except InvalidStatus as exc:
                assert exc.response.status_code == 403
                assert "evil.example" in exc.response.body.decode()
                return False, core.transport.tempo

    opened, tempo = run(main())
    assert opened is accepted
    assert (tempo == 77.0) is accepted
