"""OSC 1.0 packets as bytes: a strict decoder that says what is wrong, and the encoder.

python-osc's own parser drops bad packets with a log line and skips unknown type tags (which
misaligns every later argument), and its builder parses every message it builds back again;
a server answering Max users needs the reason for a bad packet and cheap replies, so both
directions are done here (tests check the bytes against python-osc's builder).
"""

from __future__ import annotations

import functools
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.parsing import ntp

IMMEDIATELY = 0.0  # timetag value meaning "now" (also used for plain messages)
MAX_BUNDLE_DEPTH = 8
MAX_ARRAY_DEPTH = 16  # deeper arrays cost recursion in every consumer (encoders, repr, logs)
MAX_ARGUMENTS = 100_000
MAX_ADDRESS_BYTES = 1024  # no dawhost address is longer; error messages quote the address
MAX_PACKET_BYTES = 65_536  # one UDP datagram; WebSocket frames carrying OSC obey the same
_NTP_DELTA = ntp._NTP_DELTA  # seconds from 1900-01-01 to 1970-01-01
_BUNDLE_HEADER = b"#bundle\x00"


class OscDecodeError(ValueError):
    """The packet is not valid OSC; the message says where and why."""


@dataclass(frozen=True)
class OscMessage:
    address: str
    args: tuple[Any, ...]
    type_tags: str = ""
    timetag: float = IMMEDIATELY  # Unix seconds from the enclosing bundle, or IMMEDIATELY


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int, what: str) -> bytes:
        end = self.pos + size
        if size < 0 or end > len(self.data):
            raise OscDecodeError(f"packet ends inside {what} (byte {self.pos} of {len(self.data)})")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def string(self, what: str) -> str:
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise OscDecodeError(f"{what} at byte {self.pos} has no terminating zero byte")
        raw = self.data[self.pos : end]
        self.pos = (end + 4) & ~3  # strings are zero-terminated and padded to 4 bytes
        if self.pos > len(self.data):
            raise OscDecodeError(f"{what} is not padded to a multiple of 4 bytes")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise OscDecodeError(f"{what} at byte {end - len(raw)} is not UTF-8 text") from None


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def decode_packet(data: bytes) -> list[OscMessage]:
    """Every message in a datagram (a message or a possibly nested bundle), in packet order."""
    if not data:
        raise OscDecodeError("empty packet")
    if len(data) > MAX_PACKET_BYTES:
        raise OscDecodeError(f"packet of {len(data)} bytes; at most {MAX_PACKET_BYTES}")
    if len(data) % 4:
        raise OscDecodeError(f"packet size {len(data)} is not a multiple of 4 bytes")
    messages: list[OscMessage] = []
    _decode_element(data, IMMEDIATELY, 0, messages)
    return messages


def _decode_element(data: bytes, timetag: float, depth: int, out: list[OscMessage]) -> None:
    if data.startswith(_BUNDLE_HEADER):
        if depth >= MAX_BUNDLE_DEPTH:
            raise OscDecodeError(f"bundles nested deeper than {MAX_BUNDLE_DEPTH}")
        reader = _Reader(data)
        reader.take(8, "bundle header")
        (raw_time,) = struct.unpack(">Q", reader.take(8, "bundle timetag"))
        own = IMMEDIATELY if raw_time == 1 else raw_time / 2**32 - _NTP_DELTA
        # A nested bundle may not fire before its parent (OSC 1.0).
        bundle_time = max(own, timetag) if own != IMMEDIATELY else timetag
        while reader.pos < len(data):
            (size,) = struct.unpack(">i", reader.take(4, "bundle element size"))
            if size <= 0 or size % 4:
                raise OscDecodeError(f"bundle element size {size} must be a positive multiple of 4")
            _decode_element(reader.take(size, "bundle element"), bundle_time, depth + 1, out)
        return
    if not data.startswith(b"/"):
        raise OscDecodeError("not an OSC message or bundle: the address must start with '/'")
    out.append(_decode_message(data, timetag))


def _decode_message(data: bytes, timetag: float) -> OscMessage:
    end = data.find(b"\x00", 0, MAX_ADDRESS_BYTES + 1)
    if end < 0 and len(data) > MAX_ADDRESS_BYTES:
        raise OscDecodeError(
            f"the address is longer than {MAX_ADDRESS_BYTES} bytes "
            f"(it starts {data[:40].decode('utf-8', 'replace')!r})"
        )
    reader = _Reader(data)
    address = _clip(reader.string("the address"), MAX_ADDRESS_BYTES)
    if reader.pos >= len(data):
        return OscMessage(address, (), "", timetag)  # OSC 1.0 allows a missing type tag string
    tags = reader.string("the type tag string")
    if not tags.startswith(","):
        raise OscDecodeError(
            f"{_clip(address)}: type tag string {_clip(tags)!r} must start with ','"
        )
    tags = tags[1:]
    shown = _clip(tags)  # for error messages: a tag string can be as long as the packet
    if len(tags) > MAX_ARGUMENTS:
        raise OscDecodeError(f"{_clip(address)}: more than {MAX_ARGUMENTS} arguments")
    stack: list[list[Any]] = [[]]
    where = _clip(address)
    index = 0
    while index < len(tags):
        tag = tags[index]
        if tag in _FIXED:  # a run of numbers (a note list): one struct call for all of it
            run = _FIXED_RUN.match(tags, index)
            assert run is not None
            layout = _run_struct(run.group())
            end = reader.pos + layout.size
            if end > len(data):
                raise OscDecodeError(
                    f"{where}: packet ends inside arguments {index + 1} to {run.end()} "
                    f"(byte {reader.pos} of {len(data)})"
                )
            stack[-1].extend(layout.unpack_from(data, reader.pos))
            reader.pos = end
            index = run.end()
            continue
        try:
            value = _argument(reader, tag)
        except OscDecodeError as exc:
            raise OscDecodeError(f"{where}: argument {index + 1} (type {tag!r}): {exc}") from None
        index += 1
        if value is _OPEN:
            if len(stack) > MAX_ARRAY_DEPTH:
                raise OscDecodeError(f"{where}: arrays nested deeper than {MAX_ARRAY_DEPTH}")
            stack.append([])
        elif value is _CLOSE:
            if len(stack) < 2:
                raise OscDecodeError(f"{where}: ']' without '[' in type tags ,{shown}")
            closed = stack.pop()
            stack[-1].append(closed)
        elif value is _UNKNOWN:
            raise OscDecodeError(f"{where}: unknown type tag {tag!r} in ,{shown}")
        else:
            stack[-1].append(value)
    if len(stack) != 1:
        raise OscDecodeError(f"{where}: '[' without ']' in type tags ,{shown}")
    if reader.pos != len(data):
        raise OscDecodeError(
            f"{where}: {len(data) - reader.pos} bytes left over after the arguments ,{shown}"
        )
    return OscMessage(address, tuple(stack[0]), tags, timetag)


_OPEN, _CLOSE, _UNKNOWN = object(), object(), object()  # array markers, unknown tag
_FIXED = frozenset("ifhd")
_FIXED_RUN = re.compile("[ifhd]+")
_STRUCT_CODES = str.maketrans({"h": "q"})
_RUN_LENGTHS = re.compile(r"(.)\1*")  # "iiiif" -> "4i1f": a small layout for a long run


def _run_struct(run: str) -> struct.Struct:
    """The struct for a run of number tags; short runs (every real message) are cached, long
    ones built each time, so odd packets cannot fill memory with cached layouts."""
    if len(run) <= 64:
        return _cached_struct(run)
    return struct.Struct(
        ">"
        + _RUN_LENGTHS.sub(
            lambda m: f"{len(m.group())}{m.group()[0]}", run.translate(_STRUCT_CODES)
        )
    )


@functools.lru_cache(maxsize=512)
def _cached_struct(run: str) -> struct.Struct:
    return struct.Struct(">" + run.translate(_STRUCT_CODES))


def _argument(reader: _Reader, tag: str) -> Any:
    """One argument's value (errors name the bytes; the caller adds which argument)."""
    what = "the argument"
    if tag == "i":
        return struct.unpack(">i", reader.take(4, what))[0]
    if tag == "f":
        return struct.unpack(">f", reader.take(4, what))[0]
    if tag == "h":
        return struct.unpack(">q", reader.take(8, what))[0]
    if tag == "d":
        return struct.unpack(">d", reader.take(8, what))[0]
    if tag in "sS":
        return reader.string(what)
    if tag == "b":
        (size,) = struct.unpack(">i", reader.take(4, what))
        value = reader.take(size, what)
        reader.take(-size % 4, what)
        return value
    if tag in "rm":
        return reader.take(4, what)
    if tag == "c":
        (code,) = struct.unpack(">I", reader.take(4, what))
        return chr(code) if code < 0x110000 else "\ufffd"
    if tag == "t":
        (raw,) = struct.unpack(">Q", reader.take(8, what))
        return IMMEDIATELY if raw == 1 else raw / 2**32 - _NTP_DELTA
    if tag == "T":
        return True
    if tag == "F":
        return False
    if tag in "NI":
        return None
    if tag == "[":
        return _OPEN
    if tag == "]":
        return _CLOSE
    return _UNKNOWN


def encode_message(address: str, args: Sequence[Any] = ()) -> bytes:
    """One OSC message. ints become 'i' (or 'h' beyond 32 bits), floats 'f', str 's',
    bool 'T'/'F', None 'N', bytes 'b', lists OSC arrays; the bytes are the same as
    python-osc's `OscMessageBuilder` makes, built without its parse-back of every message."""
    numbers = _number_tags(args)
    if numbers is not None:  # note lists, pongs: one struct call instead of one per argument
        layout = _run_struct(numbers) if numbers else None
        body = layout.pack(*args) if layout else b""
        return b"".join([_osc_string(address), _osc_string("," + numbers), body])
    tags = [","]
    parts: list[bytes] = []
    _encode_args(args, tags, parts)
    return b"".join([_osc_string(address), _osc_string("".join(tags)), *parts])


def _number_tags(args: Sequence[Any]) -> str | None:
    """'i'/'f' per argument when every one is a 32-bit int or a float, else None."""
    tags = []
    for arg in args:
        kind = type(arg)
        if kind is int and -(2**31) <= arg < 2**31:
            tags.append("i")
        elif kind is float:
            tags.append("f")
        else:
            return None
    return "".join(tags)


def _osc_string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return raw + b"\x00" * (4 - len(raw) % 4)


def _encode_args(args: Sequence[Any], tags: list[str], body: list[bytes]) -> None:
    for arg in args:
        if arg is True:
            tags.append("T")
        elif arg is False:
            tags.append("F")
        elif arg is None:
            tags.append("N")
        elif isinstance(arg, int):
            if arg.bit_length() > 31:
                tags.append("h")
                body.append(struct.pack(">q", arg))
            else:
                tags.append("i")
                body.append(struct.pack(">i", arg))
        elif isinstance(arg, float):
            tags.append("f")
            body.append(struct.pack(">f", arg))  # OverflowError beyond float32: the caller's
        elif isinstance(arg, str):
            tags.append("s")
            body.append(_osc_string(arg))
        elif isinstance(arg, (bytes, bytearray)):
            if not arg:
                raise ValueError("an OSC blob cannot be empty")
            tags.append("b")
            body.append(struct.pack(">i", len(arg)) + bytes(arg) + b"\x00" * (-len(arg) % 4))
        elif isinstance(arg, (list, tuple)):
            tags.append("[")
            _encode_args(arg, tags, body)
            tags.append("]")
        else:
            raise TypeError(f"cannot send {type(arg).__name__} over OSC")


def encode_bundle(messages: Sequence[bytes], unix_time: float = IMMEDIATELY) -> bytes:
    """A bundle of already encoded messages, to fire at `unix_time` (IMMEDIATELY: now)."""
    from pythonosc.osc_message import OscMessage as _PyOscMessage

    builder = OscBundleBuilder(unix_time if unix_time else 0)  # type: ignore[arg-type]
    for dgram in messages:
        builder.add_content(_PyOscMessage(dgram))
    return builder.build().dgram
