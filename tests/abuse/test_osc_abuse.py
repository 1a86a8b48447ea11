"""Issue #20 items 1 and 3 over OSC/UDP: only allowed sources off loopback (refused ones get
no reply, so a forged source cannot aim replies at anyone); decoding limits with an error
reply; log lines capped however large the datagram."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from protocols.osc import OscProtocol
from protocols.osc_allow import SourceFilter
from protocols.osc_wire import MAX_ARRAY_DEPTH, decode_packet, encode_message
from protocols.ratelimit import MAX_LINE
from tests.fakes import EchoContinuer
from tests.protocols.osc_client import osc_client, osc_server


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def osc_string(text: str) -> bytes:
    raw = text.encode()
    return raw + b"\x00" * (4 - len(raw) % 4)


def nested_ping(depth: int) -> bytes:
    """The attack: a 2 kB datagram whose argument is one int inside `depth` arrays."""
    return (
        osc_string("/dawhost/ping")
        + osc_string("," + "[" * depth + "i" + "]" * depth)
        + b"\0\0\0\1"
    )


def test_the_allow_list(off_loopback: None) -> None:
    empty = SourceFilter("0.0.0.0")
    assert not empty.allows("10.0.0.5") and not empty.allows("192.168.1.7")
    assert empty.allows("127.0.0.1") and empty.allows("::1") and empty.allows("::ffff:127.0.0.1")
    lan = SourceFilter("0.0.0.0", ["10.0.0.0/24", "fd00::1"])
    assert lan.allows("10.0.0.5") and lan.allows("::ffff:10.0.0.9") and lan.allows("fd00::1")
    assert not lan.allows("10.0.1.5") and not lan.allows("not-an-address")
    assert lan.refused == 2
    with pytest.raises(ValueError, match="'10.0.0.300'"):
        SourceFilter("0.0.0.0", ["10.0.0.300"])
    with pytest.raises(ValueError, match="must be a list"):
        SourceFilter("0.0.0.0", "10.0.0.0/24")  # type: ignore[arg-type]


def test_a_loopback_bind_needs_no_list() -> None:
    assert SourceFilter("127.0.0.1").allows("10.0.0.5")  # cannot arrive on 127.0.0.1 anyway
    assert SourceFilter("127.0.0.1").startup_message() is None


def test_off_loopback_remote_osc_is_refused_silently_and_said_at_start(
    tmp_path: Path, off_loopback: None, caplog: pytest.LogCaptureFixture
) -> None:
    """The attack: with --bind 0.0.0.0, OSC from any host started and cancelled jobs, moved
    the transport, set option defaults, and got 6.5 kB answers to a 20-byte datagram."""
    caplog.set_level(logging.INFO)

    async def main() -> tuple[list[Any], float, Any, int]:
        async with osc_server(tmp_path, EchoContinuer()) as (core, osc), osc_client(osc.port) as me:
            sent: list[Any] = []
            assert osc._transport is not None
            real_sendto = osc._transport.sendto
            osc._transport.sendto = lambda data, addr=None: sent.append(addr)  # type: ignore[method-assign]
            protocol = OscProtocol(osc)
            remote = ("10.0.0.5", 40000)  # never sent to: the filter must stop it first
            tempo = core.transport.snapshot().tempo
            for message in (
                encode_message("/dawhost/models"),
                encode_message("/dawhost/transport/tempo", [60.0]),
                encode_message("/dawhost/fake-echo/options/repeats", [8]),
                encode_message("/dawhost/fake-echo/continue", [1, "primer", 60, 100, 0, 1]),
            ):
                protocol.datagram_received(message, remote)
            osc._transport.sendto = real_sendto  # type: ignore[method-assign]
            me.send("/dawhost/ping", 5)  # loopback still works
            pong = await me.expect("/dawhost/pong")
            return sent, tempo - core.transport.snapshot().tempo, pong.args, osc.sources.refused

    sent, tempo_change, pong, refused = run(main())
    assert sent == [] and tempo_change == 0 and refused == 4
    assert pong == (5,)
    assert "[osc] allow is empty: datagrams from other hosts are refused" in caplog.text


def test_deep_arrays_get_an_error_reply_not_a_recursion(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> tuple[Any, Any, Any]:
        async with osc_server(tmp_path, EchoContinuer()) as (_, osc), osc_client(osc.port) as me:
            me.send_raw(nested_ping(1000))
            deep = await me.expect("/dawhost/error")
            me.send_raw(nested_ping(MAX_ARRAY_DEPTH))  # as deep as allowed: echoed back
            echoed = await me.expect("/dawhost/pong")
            me.send("/dawhost/ping", "alive")
            alive = await me.expect("/dawhost/pong")
            return deep.args, echoed.args, alive.args

    deep, echoed, alive = run(main())
    assert deep[1] == "bad_request" and f"nested deeper than {MAX_ARRAY_DEPTH}" in deep[2]
    value: Any = echoed[0]
    for _ in range(MAX_ARRAY_DEPTH - 1):
        value = value[0]
    assert value == [1] and alive == ("alive",)
    assert "RecursionError" not in caplog.text and "Traceback" not in caplog.text


def test_a_huge_unknown_address_costs_one_short_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The attack: a 64 kB address wrote 25 kB of log per datagram."""

    async def main() -> list[Any]:
        async with osc_server(tmp_path, EchoContinuer()) as (_, osc), osc_client(osc.port) as me:
            replies = []
            for address in ("/" + "x" * 60_000, "/dawhost/" + "y" * 900):
                me.send_raw(osc_string(address) + osc_string(",i") + b"\0\0\0\1")
                replies.append((await me.expect("/dawhost/error")).args)
            return replies

    too_long, unknown = run(main())
    assert "longer than 1024 bytes" in too_long[2] and len(too_long[2]) < 300
    assert unknown[1] in ("bad_request", "unknown_model") and len(unknown[2]) < 2000
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("protocols")]
    assert lines and max(len(line) for line in lines) <= MAX_LINE + 40


def test_decoder_limits() -> None:
    with pytest.raises(ValueError, match="at most 65536"):
        decode_packet(
            osc_string("/a") + osc_string(",b") + (70_000).to_bytes(4, "big") + bytes(70_000)
        )
    assert decode_packet(nested_ping(MAX_ARRAY_DEPTH))[0].address == "/dawhost/ping"
