"""`deliver timed` over real UDP on loopback: order, timetags on the grid, late notes reported,
cancel and stop silencing. No assertion here depends on how punctual the machine is: timetags
are computed from the grid, and arrival times are only measured by the benchmark
(benchmarks/bench_osc_timed.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import host
from host import Capability, InputKind, InputSpec, Model, Note, NotesOutput
from host.transport import Transport
from protocols.osc_timed import encode_timed_bundle
from protocols.osc_transport import apply_transport_message
from protocols.osc_wire import IMMEDIATELY, decode_packet, encode_message
from tests.fakes import EchoContinuer
from tests.protocols.osc_client import OscClient, osc_client, osc_server

PRIMER = [60, 100, 0, 1, 64, 90, 1, 1]  # two one-beat notes
TEMPO = 600.0  # 0.1 s per beat: a bar is 0.4 s, so tests stay short
NOTE_ADDRESSES = ("/dawhost/noteon", "/dawhost/noteoff", "/dawhost/allnotesoff")


class LateContinuer(Model):
    """One note at once, then (after `pause` seconds) one that is due long before that."""

    model_id = "fake-late"
    capabilities = frozenset({Capability.CONTINUE_MIDI})
    inputs = (InputSpec("primer", InputKind.NOTES, "ignored"),)

    class Options(host.Options):
        pause: float = host.Field(1.0, ge=0, le=5, description="Seconds between the batches")

    def run(self, job: host.Job) -> Iterator[NotesOutput]:
        yield NotesOutput([Note(67, 80, 0.0, 0.25)], final=False)
        time.sleep(job.options.pause)
        yield NotesOutput([Note(72, 90, 0.5, 0.25)], final=True)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def collect(client: OscClient, request_id: Any, until: str, timeout: float = 15.0) -> list:
    """Every message for `request_id` up to and including the first `until`."""
    replies = []
    async with asyncio.timeout(timeout):
        while True:
            message = await client.receive(timeout)
            if message.args and message.args[0] == request_id:
                replies.append(message)
                if message.address == until:
                    return replies


async def all_notes(client: OscClient, replies: list, ons: int) -> list:
    """The note messages among `replies`, then more until `ons` note-ons and as many
    note-offs have arrived."""
    got = [m for m in replies if m.address in NOTE_ADDRESSES]

    def count(address: str) -> int:
        return sum(m.address == address for m in got)

    async with asyncio.timeout(15):
        while count("/dawhost/noteon") < ons or count("/dawhost/noteoff") < ons:
            message = await client.receive(15)
            if message.address in NOTE_ADDRESSES:
                got.append(message)
    return got


def test_timed_notes_arrive_in_grid_order_with_grid_timetags(tmp_path: Path) -> None:
    async def main() -> tuple[list, list, Any]:
        async with osc_server(tmp_path) as (core, osc), osc_client(osc.port) as client:
            core.transport.set_tempo(TEMPO)
            core.transport.play()
            client.send(
                "/dawhost/fake-echo/continue",
                3,
                "primer",
                *PRIMER,
                "repeats",
                2,
                "deliver",
                "timed",
                "latency_ms",
                20,
            )
            replies = await collect(client, 3, "/dawhost/done")
            notes = await all_notes(client, replies, 4)
            # the transport's grid as Unix time, to compare the timetags with
            anchor = next(m for m in replies if m.address == "/dawhost/scheduled").args[2]
            grid_unix = core.transport.time_at(anchor) + time.time() - time.monotonic()
            return replies, notes, grid_unix

    replies, notes, grid_unix = run(main())
    names = [m.address for m in replies]
    assert "/dawhost/note" not in names  # no burst: the notes come as noteon/noteoff
    assert names[0] == "/dawhost/accepted" and names[-1] == "/dawhost/done"
    scheduled = [m.args for m in replies if m.address == "/dawhost/scheduled"]
    assert sum(args[1] for args in scheduled) == 4
    anchor = scheduled[0][2]
    assert anchor % 4 == 0  # align bar: the answer starts on a bar line
    assert scheduled[0][3] == f"{int(anchor // 4) + 1}:1"
    sequence = [(m.address.rsplit("/", 1)[1], m.args[1]) for m in notes]
    assert sequence == [
        ("noteon", 60),
        ("noteoff", 60),  # an off at the same grid time goes before the next on
        ("noteon", 64),
        ("noteoff", 64),
        ("noteon", 60),
        ("noteoff", 60),
        ("noteon", 64),
        ("noteoff", 64),
    ]
    assert [m.args[2] for m in notes if m.address == "/dawhost/noteon"] == [100, 90, 100, 90]
    # Each bundle's timetag is its grid time: beats 0, 1, 1, 2, 2, 3, 3, 4 after the anchor.
    beats = [0, 1, 1, 2, 2, 3, 3, 4]
    for message, beat in zip(notes, beats, strict=True):
        assert abs(message.timetag - (grid_unix + beat * 60 / TEMPO)) < 0.002, (message, beat)


def test_a_note_due_before_it_was_made_is_reported_not_played(tmp_path: Path) -> None:
    async def main() -> list:
        async with osc_server(tmp_path, LateContinuer()) as (core, osc):
            async with osc_client(osc.port) as client:
                core.transport.set_tempo(TEMPO)
                core.transport.play()
                client.send(
                    "/dawhost/fake-late/continue", "a", "primer", 60, 100, 0, 1, "deliver", "timed"
                )
                replies = await collect(client, "a", "/dawhost/done")
                notes = await all_notes(client, replies, 1)
                return [m for m in replies if m.address not in NOTE_ADDRESSES] + notes

    replies = run(main())
    late = [m.args for m in replies if m.address == "/dawhost/late"]
    assert late == [("a", 72, 90, 0.5, 0.25)]
    # The on-time note plays (its noteoff may come after done); the late one never does.
    assert all(m.args[1] != 72 for m in replies if m.address in NOTE_ADDRESSES)


def test_cancel_silences_the_sounding_note_and_withdraws_the_rest(tmp_path: Path) -> None:
    async def main() -> list:
        async with osc_server(tmp_path) as (core, osc), osc_client(osc.port) as client:
            core.transport.set_tempo(120.0)
            core.transport.play()
            long_primer = [60, 100, 0, 4, 62, 100, 4, 4]
            client.send(
                "/dawhost/fake-echo/continue",
                9,
                "primer",
                *long_primer,
                "repeats",
                4,
                "deliver",
                "timed",
                "start",
                core.transport.beat_at() + 0.5,  # soon: the first note sounds for 2 s
            )
            got = []
            async with asyncio.timeout(15):
                while not any(m.address == "/dawhost/noteon" for m in got):
                    got.append(await client.receive(15))
            client.send("/dawhost/cancel", 9)
            async with asyncio.timeout(15):
                while got[-1].address != "/dawhost/allnotesoff":
                    got.append(await client.receive(15))
            await asyncio.sleep(0.3)
            while not client.queue.empty():
                got.append(client.queue.get_nowait())
            return got

    got = run(main())
    notes = [(m.address, m.args[1:]) for m in got if m.address in NOTE_ADDRESSES]
    assert notes[:3] == [
        ("/dawhost/noteon", (60, 100)),
        ("/dawhost/noteoff", (60,)),
        ("/dawhost/allnotesoff", ()),
    ]
    assert len(notes) == 3  # nothing plays after the cancel
    assert not [m for m in got if m.address == "/dawhost/error"]


def test_stopped_transport_plays_in_free_time_and_stop_silences(tmp_path: Path) -> None:
    async def main() -> tuple[list, list]:
        async with osc_server(tmp_path) as (core, osc), osc_client(osc.port) as client:
            core.transport.set_tempo(TEMPO)
            client.send("/dawhost/fake-echo/continue", 5, "primer", *PRIMER, "deliver", "timed")
            replies = await collect(client, 5, "/dawhost/done")
            notes = await all_notes(client, replies, 2)
            free = [m for m in replies if m.address not in NOTE_ADDRESSES] + notes
            # Playing, then stopped in the middle of a long note: it ends at once.
            core.transport.play()
            client.send(
                "/dawhost/fake-echo/continue",
                6,
                "primer",
                60,
                100,
                0,
                64,
                "deliver",
                "timed",
                "align",
                "beat",
            )
            got: list = []
            async with asyncio.timeout(15):
                while not any(m.address == "/dawhost/noteon" for m in got):
                    got.append(await client.receive(15))
                core.transport.stop()
                while got[-1].address != "/dawhost/allnotesoff":
                    got.append(await client.receive(15))
            return free, got

    free, stopped = run(main())
    scheduled = next(m.args for m in free if m.address == "/dawhost/scheduled")
    assert scheduled[2:] == (-1.0, "free")
    assert [m.address for m in free if m.address in NOTE_ADDRESSES].count("/dawhost/noteon") == 2
    anchor = next(m.args for m in stopped if m.address == "/dawhost/scheduled")[2]
    assert anchor == int(anchor)  # align beat
    assert [m.address for m in stopped if m.address in NOTE_ADDRESSES] == [
        "/dawhost/noteon",
        "/dawhost/noteoff",
        "/dawhost/allnotesoff",
    ]


def test_bad_delivery_values_are_named(tmp_path: Path) -> None:
    async def main() -> list:
        async with osc_server(tmp_path) as (_, osc), osc_client(osc.port) as client:
            client.send("/dawhost/fake-echo/continue", 1, "primer", *PRIMER, "deliver", "late")
            first = await client.expect("/dawhost/error")
            client.send("/dawhost/fake-echo/continue", 2, "primer", *PRIMER, "latency_ms", -5)
            return [first, await client.expect("/dawhost/error")]

    first, second = run(main())
    assert first.args[0] == 1 and first.args[1] == "bad_option" and first.args[3] == "deliver"
    assert "'asap', 'timed'" in first.args[2]
    assert second.args[0] == 2 and second.args[3] == "latency_ms"


def test_asap_stays_the_default(tmp_path: Path) -> None:
    async def main() -> list:
        async with osc_server(tmp_path, EchoContinuer()) as (_, osc):
            async with osc_client(osc.port) as client:
                client.send("/dawhost/fake-echo/continue", 4, "primer", *PRIMER)
                return await client.until_end(4)

    names = [m.address for m in run(main())]
    assert names.count("/dawhost/note") == 2 and "/dawhost/noteon" not in names


def test_bundle_timetags_encode_the_unix_time() -> None:
    message = encode_message("/dawhost/noteon", [1, 60, 100])
    when = time.time() + 12.345678
    decoded = decode_packet(encode_timed_bundle(message, when))
    assert decoded[0].address == "/dawhost/noteon" and decoded[0].args == (1, 60, 100)
    assert abs(decoded[0].timetag - when) < 1e-6
    assert decode_packet(encode_timed_bundle(message, IMMEDIATELY))[0].timetag == IMMEDIATELY


def test_sync_follows_a_client_transport_and_ignores_small_jitter() -> None:
    now = [100.0]
    transport = Transport(clock=lambda: now[0])
    changes: list = []
    transport.subscribe(changes.append)
    apply_transport_message(transport, "sync", (96.0, 8.0, 1, 3, 4))
    assert transport.tempo == 96.0 and transport.playing and transport.signature == (3, 4)
    assert transport.beat_at() == 8.0
    count = len(changes)
    now[0] += 1.0  # one second at 96 BPM: beat 9.6; the client says 9.602 (1.25 ms off)
    apply_transport_message(transport, "sync", (96.0, 9.602, 1, 3, 4))
    assert len(changes) == count and abs(transport.beat_at() - 9.6) < 1e-9
    apply_transport_message(transport, "sync", (96.0, 9.7, 1))  # 62 ms off: follow it
    assert abs(transport.beat_at() - 9.7) < 1e-9
    apply_transport_message(transport, "sync", (96.0, 9.7, 0))
    assert not transport.playing
