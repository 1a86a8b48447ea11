"""OSC bytes and the request/reply mapping, without sockets: the wire format as documented in
`protocols.osc`, checked message by message."""

from __future__ import annotations

import re
import struct
import time
from pathlib import Path

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from host.errors import DawhostError, ErrorCode
from host.outputs import AudioOutput, FileOutput, Note, NotesOutput, StemsOutput
from host.requests import Error, OutputEvent
from protocols.osc_requests import encode_event, parse_request
from protocols.osc_wire import (
    IMMEDIATELY,
    OscDecodeError,
    decode_packet,
    encode_bundle,
    encode_message,
)
from tests.fakes import EchoContinuer, SineRenderer


def test_round_trip_of_every_supported_type() -> None:
    args = [1, -5, 2**40, 0.5, "text", b"\x01\x02\x03", True, False, None, [1, ["a"], 2.5]]
    (message,) = decode_packet(encode_message("/a/b", args))
    assert message.address == "/a/b" and message.type_tags == "iihfsbTFN[i[s]f]"
    assert message.args == (
        1,
        -5,
        2**40,
        0.5,
        "text",
        b"\x01\x02\x03",
        True,
        False,
        None,
        [1, ["a"], 2.5],
    )
    assert message.timetag == IMMEDIATELY


def test_known_bytes_decode_as_the_osc_spec_says() -> None:
    # From the OSC 1.0 spec examples: "/foo" with int 1000, int -1, "hello", 1.234, 5.678.
    data = (
        b"/foo\x00\x00\x00\x00,iisff\x00\x00\x00\x00\x03\xe8\xff\xff\xff\xff"
        b"hello\x00\x00\x00?\x9d\xf3\xb6@\xb5\xb2-"
    )
    (message,) = decode_packet(data)
    assert message.args[:3] == (1000, -1, "hello")
    assert message.args[3] == pytest.approx(1.234, abs=1e-6)
    assert message.args[4] == pytest.approx(5.678, abs=1e-6)


def test_nested_bundles_keep_the_latest_timetag() -> None:
    soon = time.time() + 10
    inner = encode_bundle([encode_message("/inner", [1])], IMMEDIATELY)
    outer = (
        b"#bundle\x00"
        + encode_bundle([], soon)[8:16]
        + struct.pack(">i", len(inner))
        + inner
        + struct.pack(">i", 8)
        + encode_message("/x")
    )
    messages = decode_packet(outer)
    assert [m.address for m in messages] == ["/inner", "/x"]
    assert all(abs(m.timetag - soon) < 1e-3 for m in messages)  # inner may not fire earlier


@pytest.mark.parametrize(
    "data,problem",
    [
        (b"", "empty"),
        (b"/ab", "multiple of 4"),
        (b"abcd", "must start with '/'"),
        (b"/a\x00\x00,i\x00\x00", "ends inside"),
        (b"/a\x00\x00,q\x00\x00", "unknown type tag 'q'"),
        (b"/a\x00\x00,]\x00\x00", "']' without '['"),
        (b"/a\x00\x00,[\x00\x00", "'[' without ']'"),
        (b"/a\x00\x00i\x00\x00\x00", "must start with ','"),
        (b"/a\x00\x00,\x00\x00\x00\x00\x00\x00\x01", "left over"),
        (b"/a\xff\x00,\x00\x00\x00", "not UTF-8"),
        (b"#bundle\x00" + b"\x00" * 7 + b"\x01" + b"\x00\x00\x00\x05abcd", "multiple of 4"),
    ],
)
def test_malformed_packets_say_what_is_wrong(data: bytes, problem: str) -> None:
    with pytest.raises(OscDecodeError, match=re.escape(problem)):
        decode_packet(data)


def test_flat_notes_run_until_the_next_key() -> None:
    reply_id, request = parse_request(
        EchoContinuer(),
        "continue",
        (7.0, "primer", 60, 100, 0, 1, 64, 90.0, 1, 0.5, "repeats", 2, "seed", 5, "start", "2:3"),
        "osc:h",
        beats_per_bar=4.0,
    )
    assert reply_id == 7 and request.request_id == "7" and request.client == "osc:h"
    assert request.inputs == {"primer": [60, 100, 0, 1, 64, 90.0, 1, 0.5]}
    assert request.options == {"repeats": 2}
    assert (request.seed, request.start_beat) == (5, 6.0)


def test_notes_as_a_path_or_an_array() -> None:
    """Option defaults are the core's (`Core.options`), not merged in by the OSC codec."""
    _, by_path = parse_request(EchoContinuer(), "continue", ("a", "primer", "x.mid"), "c")
    assert by_path.inputs == {"primer": "x.mid"} and by_path.options == {}
    assert by_path.frontend == "osc"
    _, by_array = parse_request(
        SineRenderer(), "render", ("b", "notes", [60, 100, 0, 1], "bars", 2), "c"
    )
    assert by_array.inputs == {"notes": [60, 100, 0, 1]} and by_array.options == {"bars": 2}


@pytest.mark.parametrize(
    "args,code,text",
    [
        ((), ErrorCode.BAD_REQUEST, "request id first"),
        ((True,), ErrorCode.BAD_REQUEST, "request id"),
        ((1.5,), ErrorCode.BAD_REQUEST, "request id"),
        ((1, "primer", 60, "primer", 61), ErrorCode.BAD_REQUEST, "given twice"),
        ((1, "volume", 3), ErrorCode.UNKNOWN_OPTION, "options: repeats, style, temperature"),
        ((1, "seed", 1.5), ErrorCode.BAD_OPTION, "seed"),
        ((1, "start", -1), ErrorCode.BAD_REQUEST, "bar:beat"),
    ],
)
def test_request_argument_errors(args: tuple[object, ...], code: ErrorCode, text: str) -> None:
    with pytest.raises(DawhostError) as caught:
        parse_request(EchoContinuer(), "continue", args, "c")
    assert caught.value.code is code and text in caught.value.message


def test_output_replies_for_each_kind(tmp_path: Path) -> None:
    notes = encode_event(OutputEvent("r", NotesOutput([Note(60, 90, 0.0, 0.5)]), 0), 3)
    assert notes == [
        ("/dawhost/note", [3, 60, 90, 0.0, 0.5]),
        ("/dawhost/output", [3, "notes", "notes", 1]),
    ]
    audio = AudioOutput(44100, path=tmp_path / "a.wav")
    stems = encode_event(OutputEvent("r", StemsOutput({"vocals": audio, "drums": audio}), 1), "r")
    assert stems == [
        ("/dawhost/output", ["r", "stem", "vocals", str(tmp_path / "a.wav"), 44100]),
        ("/dawhost/output", ["r", "stem", "drums", str(tmp_path / "a.wav"), 44100]),
    ]
    midi = encode_event(OutputEvent("r", FileOutput(tmp_path / "x.mid", "audio/midi"), 2), "r")
    assert midi == [
        ("/dawhost/output", ["r", "file", "file", str(tmp_path / "x.mid"), "audio/midi"])
    ]
    error = encode_event(Error("r", ErrorCode.BUSY, "full"), "r")
    assert error == [("/dawhost/error", ["r", "busy", "full", ""])]
    for address, args in notes + stems + midi + error:
        assert decode_packet(encode_message(address, args))[0].args == tuple(args)


@pytest.mark.parametrize(
    "args",
    [
        [],
        [1],
        [-1, 2**31 - 1, -(2**31), 2**40],
        [0.25, -1e30],
        ["", "abc", "abcd", "é🎹"],
        [True, False, None],
        [b"\x01", b"\x01\x02\x03\x04\x05"],
        [1, [2.5, ["x", [None]]], "y"],
    ],
)
def test_encoder_matches_python_osc_byte_for_byte(args: list[object]) -> None:
    builder = OscMessageBuilder("/dawhost/some/address")
    for arg in args:
        builder.add_arg(arg)
    assert encode_message("/dawhost/some/address", args) == builder.build().dgram


def test_values_osc_cannot_carry_are_refused() -> None:
    for bad in ([b""], [1e300], [object()], [2**70]):
        with pytest.raises((ValueError, OverflowError, TypeError, struct.error)):
            encode_message("/x", bad)


def test_a_chain_step_takes_the_keys_the_addressed_model_does_not() -> None:
    from host.requests import Step
    from tests.fakes import FakeTranscriber

    models = {m.model_id: m for m in (EchoContinuer(), FakeTranscriber(), SineRenderer())}
    args = (7, "repeats", 2, "primer_from", "fake-transcribe", "audio", "/tmp/hum.wav")
    args += ("fake-transcribe.threshold", 0.2, "seconds", 1, "seed", 5)
    _, request = parse_request(models["fake-echo"], "continue", args, "c", models=models)
    assert request.options == {"repeats": 2} and request.seed == 5
    step = Step(
        "fake-transcribe", None, {"threshold": 0.2, "seconds": 1}, {"audio": "/tmp/hum.wav"}
    )
    assert request.inputs == {"primer": step}
    # a step can itself take notes, and its verb can be named
    args = (8, "notes_from", "fake-echo", "primer", 60, 100, 0, 1, "fake-echo.verb", "continue")
    _, request = parse_request(models["fake-sine"], "render", args, "c", models=models)
    assert request.inputs == {
        "notes": Step("fake-echo", "continue", {}, {"primer": [60, 100, 0, 1]})
    }


@pytest.mark.parametrize(
    "args,code,field,text",
    [
        ((1, "primer_from", "nope"), ErrorCode.UNKNOWN_MODEL, "primer_from", "no such model"),
        ((1, "audio", "/x.wav"), ErrorCode.UNKNOWN_OPTION, "audio", "<input>_from <model>"),
        (
            (1, "primer_from", "fake-transcribe", "primer", 60, 100, 0, 1),
            ErrorCode.BAD_REQUEST,
            "primer",
            "also made by primer_from",
        ),
        (
            (1, "primer_from", "fake-transcribe", "bogus", 1),
            ErrorCode.UNKNOWN_OPTION,
            "bogus",
            "fake-transcribe (making 'primer'): audio, last_bars, monophonic, seconds, threshold",
        ),
    ],
)
def test_chain_argument_errors(
    args: tuple[object, ...], code: ErrorCode, field: str, text: str
) -> None:
    from tests.fakes import FakeTranscriber

    models = {m.model_id: m for m in (EchoContinuer(), FakeTranscriber())}
    with pytest.raises(DawhostError) as refused:
        parse_request(models["fake-echo"], "continue", args, "c", models=models)
    assert refused.value.code is code and refused.value.field == field
    assert text in refused.value.message
