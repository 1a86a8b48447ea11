"""What Max patches ask at run time instead of copying: the models with one capability, and
one model's option ranges in atoms Max can route."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.protocols.osc_client import osc_client, osc_server


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_models_filtered_by_capability_and_a_bad_capability_named(tmp_path: Path) -> None:
    async def main() -> tuple[Any, Any, Any]:
        async with osc_server(tmp_path) as (_, osc), osc_client(osc.port) as client:
            client.send("/dawhost/models", "render_audio")
            rendering = await client.expect("/dawhost/models")
            client.send("/dawhost/models")
            every = await client.expect("/dawhost/models")
            client.send("/dawhost/models", "juggle")
            return rendering, every, await client.expect("/dawhost/error")

    rendering, every, error = run(main())
    assert rendering.args[0] == "render_audio"  # a filtered list says what it answers
    assert "fake-sine" in rendering.args[2:] and "fake-echo" not in rendering.args[2:]
    assert rendering.args[1] == len(rendering.args) - 2
    assert {"fake-sine", "fake-echo"} <= set(every.args[1:])
    assert error.args[1] == "bad_request" and "separate_stems" in error.args[2]


def test_option_ranges_of_one_model(tmp_path: Path) -> None:
    async def main() -> list[Any]:
        async with osc_server(tmp_path) as (_, osc), osc_client(osc.port) as client:
            client.send("/dawhost/fake-echo/options/repeats", 3)  # a server default: echoed
            client.send("/dawhost/fake-echo/options")
            replies = []
            while not replies or replies[-1].address != "/dawhost/options":
                replies.append(await client.receive())
            return replies

    replies = run(main())
    options = {m.args[1]: m.args[2:] for m in replies if m.address == "/dawhost/option"}
    assert options["repeats"] == ("int", 3, 1, 8)
    assert options["temperature"] == ("float", 1.0, pytest.approx(0.1), 2.0)  # float32
    assert options["style"] == ("str", "any", "", "")  # unbounded text
    assert replies[-1].args == ("fake-echo", 3)
