"""The OSC front-end end to end over real UDP sockets on loopback, with the fake models."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import soundfile

import host
from host.outputs import Note
from host.smf import write_smf
from protocols.osc import OscFrontend
from protocols.osc_wire import encode_bundle, encode_message
from protocols.oscquery import OscQueryServer
from tests.fakes import SlowModel, make_core
from tests.protocols.crash_check import no_handler_crashes  # noqa: F401
from tests.protocols.osc_client import OscClient, osc_client, osc_server

PRIMER = [60, 100, 0, 1, 64, 90, 1, 1]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def addresses(replies: list[Any]) -> list[str]:
    return [m.address for m in replies]


def test_request_streams_accepted_progress_notes_output_done(tmp_path: Path) -> None:
    async def main() -> list[Any]:
        async with osc_server(tmp_path) as (_, osc), osc_client(osc.port) as client:
            client.send(
                "/dawhost/fake-echo/continue", 7, "primer", *PRIMER, "repeats", 2, "seed", 11
            )
            return await client.until_end(7)

    replies = run(main())
    names = addresses(replies)
    assert names[0] == "/dawhost/accepted"
    assert replies[0].args == (7, "fake-echo", 0)
    assert "/dawhost/progress" in names
    notes = [m.args[1:] for m in replies if m.address == "/dawhost/note"]
    assert [(p, v) for p, v, _, _ in notes] == [(60, 100), (64, 90), (60, 100), (64, 90)]
    assert [s for _, _, s, _ in notes] == [0.0, 1.0, 2.0, 3.0]
    outputs = [m.args for m in replies if m.address == "/dawhost/output"]
    assert outputs[0] == (7, "notes", "notes", 1)
    done = replies[-1]
    assert done.address == "/dawhost/done" and done.type_tags == "ifis"
    assert done.args[2] == 4
    provenance = json.loads(done.args[3])
    assert provenance["seed"] == 11 and provenance["options"]["repeats"] == 2


def test_string_request_ids_and_audio_output_paths(tmp_path: Path) -> None:
    async def main() -> list[Any]:
        async with osc_server(tmp_path) as (_, osc), osc_client(osc.port) as client:
            client.send(
                "/dawhost/fake-sine/render",
                "take-1",
                "notes",
                69,
                100,
                0.0,
                1.0,
                "bars",
                1,
                "gain",
                1,
            )
            return await client.until_end("take-1")

    replies = run(main())
    output = next(m for m in replies if m.address == "/dawhost/output")
    _, kind, name, path, rate = output.args
    assert (kind, name, rate) == ("audio", "audio", 8000)
    audio, sample_rate = soundfile.read(path)
    assert sample_rate == 8000 and abs(abs(audio).max() - 1.0) < 1e-3
    assert Path(path).is_relative_to(tmp_path.resolve())
    assert replies[-1].address == "/dawhost/done"


class MidiFileSize(host.Model):
    """Reports the size of the MIDI file it was given and where its result should land."""

    model_id = "midi-size"
    capabilities = frozenset({host.Capability.CONTINUE_MIDI})
    inputs = (host.InputSpec("midi", host.InputKind.MIDI_FILE, "a MIDI file"),)

    def run(self, job: host.Job) -> Iterator[host.DataOutput]:
        path: Path = job.inputs["midi"]
        yield host.DataOutput({"bytes": path.stat().st_size, "start": job.start_beat})


def test_file_path_input_start_position_and_data_output(tmp_path: Path) -> None:
    write_smf(tmp_path / "phrase.mid", [Note(62, 80, 0.0, 0.5), Note(65, 80, 0.5, 0.5)])

    async def main() -> list[Any]:
        async with osc_server(tmp_path, MidiFileSize()) as (_, osc), osc_client(osc.port) as client:
            client.send("/dawhost/midi-size/continue", 3, "midi", "phrase.mid", "start", "2:1")
            return await client.until_end(3)

    replies = run(main())
    assert replies[-1].address == "/dawhost/done", replies[-1].args
    output = next(m.args for m in replies if m.address == "/dawhost/output")
    assert output[1:3] == ("data", "data")
    data = json.loads(output[3])
    assert data == {"bytes": (tmp_path / "phrase.mid").stat().st_size, "start": 4.0}


def test_cancel_stops_a_running_job(tmp_path: Path) -> None:
    slow = SlowModel()

    async def main() -> tuple[list[Any], int]:
        async with osc_server(tmp_path, slow) as (_, osc), osc_client(osc.port) as client:
            client.send("/dawhost/fake-slow/render", 5, "seconds", 30.0)
            await client.expect("/dawhost/accepted")
            await asyncio.get_running_loop().run_in_executor(None, slow.wait_started, 5)
            client.send("/dawhost/cancel", 5)
            replies = await client.until_end(5)
            steps = await asyncio.to_thread(slow.settled_steps)
            await asyncio.sleep(0.3)
            return replies, slow.steps - steps

    replies, steps_after = run(main())
    assert replies[-1].address == "/dawhost/error"
    assert replies[-1].args[1] == "cancelled"
    assert steps_after == 0  # the worker really stopped


def error_for(tmp_path: Path, *messages: tuple[Any, ...] | bytes) -> list[tuple[Any, ...]]:
    """Send each message, return the /dawhost/error reply to each, in order."""

    async def main() -> list[tuple[Any, ...]]:
        async with osc_server(tmp_path) as (_, osc), osc_client(osc.port) as client:
            errors = []
            for message in messages:
                if isinstance(message, bytes):
                    client.send_raw(message)
                else:
                    client.send(*message)
                errors.append((await client.expect("/dawhost/error")).args)
            client.send("/dawhost/ping", 1)
            assert (await client.expect("/dawhost/pong")).args == (1,)
            return errors

    return run(main())


def test_each_kind_of_bad_input_gets_a_named_error(tmp_path: Path) -> None:
    cases: dict[str, tuple[Any, ...] | bytes] = {
        "unknown model": ("/dawhost/no-such/continue", 1),
        "wrong verb": ("/dawhost/fake-echo/separate", 2, "primer", *PRIMER),
        "unknown verb": ("/dawhost/fake-echo/dance", 3),
        "no id": ("/dawhost/fake-echo/continue",),
        "unknown key": ("/dawhost/fake-echo/continue", 4, "primer", *PRIMER, "reps", 2),
        "out of range": ("/dawhost/fake-echo/continue", 5, "primer", *PRIMER, "repeats", 9),
        "wrong type": ("/dawhost/fake-echo/continue", 6, "primer", *PRIMER, "repeats", "many"),
        "notes not in fours": ("/dawhost/fake-echo/continue", 7, "primer", 60, 100, 0),
        "key without value": ("/dawhost/fake-echo/continue", 8, "primer", *PRIMER, "repeats"),
        "value without key": ("/dawhost/fake-echo/continue", 9, 4.5),
        "bad seed": ("/dawhost/fake-echo/continue", 10, "primer", *PRIMER, "seed", "x"),
        "bad start": ("/dawhost/fake-echo/continue", 11, "primer", *PRIMER, "start", "0:0"),
        "path outside": ("/dawhost/fake-echo/continue", 12, "primer", "../../passwd.mid"),
        "missing input": ("/dawhost/fake-echo/continue", 13),
        "unknown address": ("/other/thing",),
        "bad tempo": ("/dawhost/transport/tempo", 5000.0),
        "bad reply port": ("/dawhost/reply", "x"),
        "cancel unknown": ("/dawhost/cancel", 99),
        "nan start": ("/dawhost/fake-echo/continue", 14, "primer", *PRIMER, "start", "1:nan"),
        "negative start": ("/dawhost/fake-echo/continue", 15, "primer", *PRIMER, "start", "-3"),
        # 1e30 as an id cannot travel back as an OSC int: refused, and the error still goes out
        "huge id": ("/dawhost/fake-echo/continue", 1e30, "primer", *PRIMER),
        # a lone surrogate cannot be encoded in the pong: the error reply escapes it
        "unsendable pong": b"/dawhost/ping\x00\x00\x00,c\x00\x00\x00\x00\xd8\x00",
        "truncated packet": encode_message("/dawhost/ping", [1])[:-4],
        "unknown type tag": b"/dawhost/ping\x00\x00\x00,x\x00\x00\x00\x00\x00\x01",
        "garbage": b"\xff\xfe\x00\x01",
    }
    errors = dict(zip(cases, error_for(tmp_path, *cases.values()), strict=True))
    codes = {name: error[1] for name, error in errors.items()}
    assert codes["unknown model"] == "unknown_model"
    assert codes["wrong verb"] == "bad_request" and errors["wrong verb"][3] == "verb"
    assert "no model 'no-such'" in errors["unknown model"][2]
    assert codes["unknown key"] == "unknown_option" and "repeats" in errors["unknown key"][2]
    assert codes["out of range"] == codes["wrong type"] == "bad_option"
    assert errors["out of range"][3] == "repeats" and "1 to 8" in errors["out of range"][2]
    assert (
        codes["notes not in fours"] == "bad_input"
        and "groups of 4" in errors["notes not in fours"][2]
    )
    assert codes["path outside"] == "path_not_allowed"
    assert codes["missing input"] == "bad_input" and errors["missing input"][3] == "primer"
    assert errors["unknown model"][0] == 1 and errors["bad seed"][0] == 10  # ids echoed
    assert "no value" in errors["key without value"][2]
    assert "key" in errors["value without key"][2]
    assert "tempo" in errors["bad tempo"][2]
    assert "unknown type tag 'x'" in errors["unknown type tag"][2]
    assert errors["truncated packet"][0] == "" and "malformed" in errors["truncated packet"][2]
    assert "/dawhost/" in errors["unknown address"][2]
    assert errors["nan start"][3] == errors["negative start"][3] == "start"
    assert "too large" in errors["huge id"][2]
    assert "cannot be encoded" in errors["unsendable pong"][2]
    for name in (
        "no id",
        "unknown verb",
        "bad start",
        "bad reply port",
        "cancel unknown",
        "garbage",
        "nan start",
        "negative start",
        "huge id",
        "unsendable pong",
    ):
        assert codes[name] == "bad_request", (name, errors[name])


def test_replies_go_to_the_registered_reply_port_and_the_source(tmp_path: Path) -> None:
    async def main() -> tuple[Any, Any, Any]:
        async with (
            osc_server(tmp_path) as (_, osc),
            osc_client(osc.port) as sender,
            osc_client(osc.port) as listener,
        ):
            sender.send("/dawhost/reply", listener.port)
            await listener.expect("/dawhost/reply")
            sender.send("/dawhost/ping", "hello", 3)
            at_source = await sender.expect("/dawhost/pong")
            at_reply = await listener.expect("/dawhost/pong")
            sender.send("/dawhost/transport/tempo", 96)
            news = await listener.expect("/dawhost/transport")
            return at_source.args, at_reply.args, news.args

    at_source, at_reply, news = run(main())
    assert at_source == at_reply == ("hello", 3)
    assert news[:4] == (96.0, 4, 4, 0)


def test_default_reply_port_gets_replies_without_registration(tmp_path: Path) -> None:
    async def main() -> Any:
        listener = await OscClient(0).open()
        try:
            async with (
                osc_server(tmp_path, reply_port=listener.port) as (_, osc),
                osc_client(osc.port) as sender,
            ):
                sender.send("/dawhost/ping", 42)
                return (await listener.expect("/dawhost/pong")).args
        finally:
            listener.close()

    assert run(main()) == (42,)


def test_models_listing_describes_each_model(tmp_path: Path) -> None:
    async def main() -> list[Any]:
        async with osc_server(tmp_path) as (_, osc), osc_client(osc.port) as client:
            client.send("/dawhost/models")
            described = []
            while True:
                message = await client.receive()
                if message.address == "/dawhost/models":
                    return [message.args, described]
                described.append(json.loads(message.args[1]))

    summary, described = run(main())
    assert summary[0] == 4 and set(summary[1:]) == {
        "fake-echo",
        "fake-sine",
        "fake-slow",
        "fake-failing",
    }
    echo = next(d for d in described if d["id"] == "fake-echo")
    assert echo["verbs"] == ["continue"] and echo["options"][0]["maximum"] == 8


def test_option_defaults_set_over_osc_apply_to_later_requests(tmp_path: Path) -> None:
    async def main() -> tuple[Any, Any]:
        async with osc_server(tmp_path) as (_, osc), osc_client(osc.port) as client:
            client.send("/dawhost/fake-echo/options/repeats", 3)
            client.send("/dawhost/fake-echo/options/repeats", 30)
            error = await client.expect("/dawhost/error")
            client.send("/dawhost/fake-echo/continue", 1, "primer", *PRIMER)
            replies = await client.until_end(1)
            return error.args, json.loads(replies[-1].args[3])

    error, provenance = run(main())
    assert error[1] == "bad_option" and error[3] == "repeats"
    assert provenance["options"]["repeats"] == 3


def test_model_failure_is_reported_as_model_error(tmp_path: Path) -> None:
    async def main() -> list[Any]:
        async with osc_server(tmp_path) as (_, osc), osc_client(osc.port) as client:
            client.send("/dawhost/fake-failing/render", 1)
            return await client.until_end(1)

    replies = run(main())
    assert replies[-1].args[1] == "model_error" and "weights are corrupt" in replies[-1].args[2]


def test_transport_bundle_applies_at_its_timetag_not_early(tmp_path: Path) -> None:
    async def main() -> tuple[float, float, float, float]:
        async with osc_server(tmp_path) as (core, osc), osc_client(osc.port) as client:
            transport = core.transport
            transport.set_tempo(120.0)
            transport.play()
            due_wall = time.time() + 0.3
            due_mono = time.monotonic() + 0.3
            beat_at_due = transport.beat_at(due_mono)
            client.send_raw(
                encode_bundle([encode_message("/dawhost/transport/tempo", [240.0])], due_wall)
            )
            await asyncio.sleep(0.15)
            before = transport.tempo
            await asyncio.sleep(0.3)
            now = time.monotonic()
            return (
                before,
                transport.tempo,
                transport.beat_at(now),
                beat_at_due + (now - due_mono) * 4.0,
            )

    before, after, beat, expected = run(main())
    assert before == 120.0 and after == 240.0
    # The change is anchored at the timetag: the position matches within 2 ms of beats.
    assert abs(beat - expected) < 0.002 * 4


def test_immediate_bundle_and_plain_transport_messages(tmp_path: Path) -> None:
    async def main() -> tuple[Any, ...]:
        async with osc_server(tmp_path) as (core, osc), osc_client(osc.port) as client:
            client.send_raw(
                encode_bundle(
                    [
                        encode_message("/dawhost/transport/signature", [3, 4]),
                        encode_message("/dawhost/transport/position", ["3:2"]),
                    ]
                )
            )
            client.send("/dawhost/transport")
            state = await client.expect("/dawhost/transport")
            return state.args

    tempo, numerator, denominator, playing, beat, position = run(main())
    assert (numerator, denominator, playing) == (3, 4, 0)
    assert beat == 7.0 and position == "3:2"


def test_burst_of_small_messages_loses_none(tmp_path: Path) -> None:
    count = 5000

    async def main() -> tuple[int, int, int]:
        async with osc_server(tmp_path) as (_, osc), osc_client(osc.port) as client:
            dgram = encode_message("/dawhost/transport/tempo", [120.0])
            for _ in range(count):
                client.send_raw(dgram)  # no await: a back-to-back burst
            for _ in range(1000):  # generous: the shared test machine may be busy
                if osc.datagrams_received >= count:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # a count above `count` would be a bug too
            return osc.datagrams_received, osc.receive_buffer, count

    received, buffer, sent = run(main())
    assert buffer >= 4 * 1024 * 1024
    assert received == sent


def test_future_bundle_holds_other_messages_until_its_timetag(tmp_path: Path) -> None:
    async def main() -> float:
        async with osc_server(tmp_path) as (_, osc), osc_client(osc.port) as client:
            sent = time.monotonic()
            client.send_raw(
                encode_bundle([encode_message("/dawhost/ping", ["later"])], time.time() + 0.25)
            )
            await client.expect("/dawhost/pong")
            return time.monotonic() - sent

    assert 0.24 <= run(main()) < 1.0


def test_timetags_too_far_ahead_are_refused(tmp_path: Path) -> None:
    async def main() -> Any:
        async with osc_server(tmp_path) as (_, osc), osc_client(osc.port) as client:
            client.send_raw(
                encode_bundle([encode_message("/dawhost/transport/stop", [])], time.time() + 3600)
            )
            return (await client.expect("/dawhost/error")).args

    error = run(main())
    assert "3600" in error[2] or "ahead" in error[2]


def test_osc_still_serves_when_the_oscquery_port_is_taken(tmp_path: Path) -> None:
    """OSCQuery is a front-end of its own: its port being taken stops it, not OSC."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()

    async def main() -> tuple[Any, Exception | None]:
        core = make_core(tmp_path, osc_port=0, reply_port=9, oscquery_port=taken.getsockname()[1])
        osc, oscquery = OscFrontend(), OscQueryServer()
        await osc.start(core)
        failure: Exception | None = None
        try:
            await oscquery.start(core)
        except OSError as exc:
            failure = exc
        try:
            async with osc_client(osc.port) as client:
                client.send("/dawhost/ping", 5)
                return (await client.expect("/dawhost/pong")).args, failure
        finally:
            await osc.stop()
            await core.shutdown()

    try:
        pong, failure = run(main())
    finally:
        taken.close()
    assert pong == (5,) and isinstance(failure, OSError)
