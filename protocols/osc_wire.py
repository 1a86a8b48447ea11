"""OSC 1.0 packets as bytes: a strict decoder that says what is wrong, and the encoder.

python-osc's own parser drops bad packets with a log line and skips unknown type tags (which
misaligns every later argument), and its builder parses every message it builds back again;
a server answering Max users needs the reason for a bad packet and cheap replies, so both
directions are done here (tests check the bytes against python-osc's builder).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.parsing import ntp

IMMEDIATELY = 0.0  # timetag value meaning "now" (also used for plain messages)
MAX_BUNDLE_DEPTH = 8
MAX_ARGUMENTS = 100_000
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


def decode_packet(data: bytes) -> list[OscMessage]:
    """Every message in a datagram (a message or a possibly nested bundle), in packet order."""
    if not data:
        raise OscDecodeError("empty packet")
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
    reader = _Reader(data)
    address = reader.string("the address")
    if reader.pos >= len(data):
        return OscMessage(address, (), "", timetag)  # OSC 1.0 allows a missing type tag string
    tags = reader.string("the type tag string")
    if not tags.startswith(","):
        raise OscDecodeError(f"{address}: type tag string {tags!r} must start with ','")
    tags = tags[1:]
    if len(tags) > MAX_ARGUMENTS:
        raise OscDecodeError(f"{address}: more than {MAX_ARGUMENTS} arguments")
    stack: list[list[Any]] = [[]]
    for index, tag in enumerate(tags):
        what = f"{address}: argument {index + 1} (type '{tag}')"
        value: Any
        if tag == "i":
            (value,) = struct.unpack(">i", reader.take(4, what))
        elif tag == "f":
            (value,) = struct.unpack(">f", reader.take(4, what))
        elif tag == "h":
            (value,) = struct.unpack(">q", reader.take(8, what))
        elif tag == "d":
            (value,) = struct.unpack(">d", reader.take(8, what))
        elif tag in "sS":
            value = reader.string(what)
        elif tag == "b":
            (size,) = struct.unpack(">i", reader.take(4, what))
            value = reader.take(size, what)
            reader.take(-size % 4, what)
        elif tag in "rm":
            value = reader.take(4, what)
        elif tag == "c":
            (code,) = struct.unpack(">I", reader.take(4, what))
            value = chr(code) if code < 0x110000 else "\ufffd"
        elif tag == "t":
            (raw,) = struct.unpack(">Q", reader.take(8, what))
            value = IMMEDIATELY if raw == 1 else raw / 2**32 - _NTP_DELTA
        elif tag == "T":
            value = True
        elif tag == "F":
            value = False
        elif tag in "NI":
            value = None
        elif tag == "[":
            stack.append([])
            continue
        elif tag == "]":
            if len(stack) < 2:
                raise OscDecodeError(f"{address}: ']' without '[' in type tags ,{tags}")
            closed = stack.pop()
            stack[-1].append(closed)
            continue
        else:
            raise OscDecodeError(f"{address}: unknown type tag '{tag}' in ,{tags}")
        stack[-1].append(value)
    if len(stack) != 1:
        raise OscDecodeError(f"{address}: '[' without ']' in type tags ,{tags}")
    if reader.pos != len(data):
        raise OscDecodeError(
            f"{address}: {len(data) - reader.pos} bytes left over after the arguments ,{tags}"
        )
    return OscMessage(address, tuple(stack[0]), tags, timetag)


def encode_message(address: str, args: Sequence[Any] = ()) -> bytes:
    """One OSC message. ints become 'i' (or 'h' beyond 32 bits), floats 'f', str 's',
    bool 'T'/'F', None 'N', bytes 'b', lists OSC arrays; the bytes are the same as
    python-osc's `OscMessageBuilder` makes, built without its parse-back of every message."""
    tags = [","]
    body: list[bytes] = []
    _encode_args(args, tags, body)
    return b"".join([_osc_string(address), _osc_string("".join(tags)), *body])


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
