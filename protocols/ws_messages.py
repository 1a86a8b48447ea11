"""The WebSocket JSON messages: decoding client messages into core requests, and binary frames.

No sockets here: every shape check and error message of the WebSocket wire lives in this module,
so it is tested message by message.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from host.core import Core
from host.errors import DawhostError, ErrorCode
from host.model import Capability
from host.requests import Request
from host.transport import TransportSource, parse_position
from protocols.static_files import media_type

MESSAGE_TYPES = ("describe", "generate", "cancel", "transport", "ping", "upload")
GENERATE_FIELDS = {"type", "id", "model", "verb", "options", "inputs", "seed", "start", "binary"}


def bad(message: str, field: str | None = None) -> DawhostError:
    return DawhostError(ErrorCode.BAD_REQUEST, message, field)


def decode(frame: str | bytes) -> dict[str, Any]:
    """A client frame as a message object with a known `type`; raises DawhostError."""
    if isinstance(frame, bytes):
        raise bad('a binary frame must follow an "upload" message; send JSON text messages')
    try:
        message = json.loads(frame)
    except ValueError as exc:
        raise bad(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise bad("JSON nested too deeply") from None
    if not isinstance(message, dict):
        raise bad(f'a message must be a JSON object with a "type", got {type(message).__name__}')
    kind = message.get("type")
    if kind not in MESSAGE_TYPES:
        raise bad(f"unknown message type {kind!r}; use one of: {', '.join(MESSAGE_TYPES)}", "type")
    return message


def request_id(message: Mapping[str, Any]) -> str:
    value = message.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise bad('"id" must be a non-empty string or an int (one per request)', "id")
    text = str(value)
    if len(text) > 200:
        raise bad('"id" is longer than 200 characters', "id")
    return text


def generate_request(
    core: Core, message: Mapping[str, Any], client: str, frontend: str = "websocket"
) -> Request:
    """A `generate` message as a core Request (the core validates options and inputs)."""
    rid = request_id(message)
    unknown = set(message) - GENERATE_FIELDS
    if unknown:
        raise bad(
            f"unknown field(s) {', '.join(sorted(unknown))} in generate; fields: "
            + ", ".join(sorted(GENERATE_FIELDS)),
            sorted(unknown)[0],
        )
    model_id = message.get("model")
    if not isinstance(model_id, str) or not model_id:
        raise bad('"model" must name a model (send {"type": "describe"} to list them)', "model")
    model = core.models.get(model_id)
    if model is None or model not in core.exposed_models(frontend):
        known = ", ".join(m.model_id for m in core.exposed_models(frontend)) or "none loaded"
        raise DawhostError(
            ErrorCode.UNKNOWN_MODEL, f"no model {model_id!r}; available: {known}", "model"
        )
    verb = message.get("verb")
    if verb is None:
        if len(model.capabilities) != 1:
            raise bad(
                f'model {model_id!r} can {", ".join(model.verbs())}: say which in "verb"', "verb"
            )
        verb = next(iter(model.capabilities)).verb
    if not isinstance(verb, str) or Capability.from_verb(verb) is None:
        raise bad(
            f"unknown verb {verb!r}; model {model_id!r} can: {', '.join(model.verbs())}", "verb"
        )
    options, inputs = message.get("options", {}), message.get("inputs", {})
    for name, value in (("options", options), ("inputs", inputs)):
        if not isinstance(value, dict):
            raise bad(f'"{name}" must be an object of name: value', name)
    seed = message.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise DawhostError(ErrorCode.BAD_OPTION, f"seed {seed!r} must be an int >= 0", "seed")
    return Request(
        rid,
        model_id,
        verb,
        dict(options),
        dict(inputs),
        seed,
        start_beat(message.get("start"), core.transport.beats_per_bar),
        client,
    )


def start_beat(value: Any, beats_per_bar: float) -> float | None:
    if value is None:
        return None
    try:
        return parse_position(value, beats_per_bar)
    except ValueError:
        pass
    raise bad(f'start {value!r} must be a beat number >= 0 or "bar:beat" text like "5:1"', "start")


def apply_transport(core: Core, message: Mapping[str, Any]) -> bool:
    """Apply the fields of a `transport` message; False when none changed anything."""
    transport, source = core.transport, TransportSource.NETWORK
    known = {"type", "tempo", "playing", "position", "signature"}
    unknown = set(message) - known
    if unknown:
        raise bad(
            f"unknown transport field(s) {', '.join(sorted(unknown))}; use tempo, "
            "playing, position, signature",
            sorted(unknown)[0],
        )
    accepted = []
    try:
        if "signature" in message:
            value = message["signature"]
            if not (
                isinstance(value, list)
                and len(value) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            ):
                raise bad('"signature" must be [numerator, denominator]', "signature")
            accepted.append(transport.set_signature(value[0], value[1], source))
        if "tempo" in message:
            tempo = message["tempo"]
            if isinstance(tempo, bool) or not isinstance(tempo, (int, float)):
                raise bad('"tempo" must be a number of BPM', "tempo")
            accepted.append(transport.set_tempo(float(tempo), source))
        if "position" in message:
            beat = start_beat(message["position"], transport.beats_per_bar)
            if beat is None:
                raise bad('"position" must be a beat number or "bar:beat" text', "position")
            accepted.append(transport.set_position(beat, source))
        if "playing" in message:
            if not isinstance(message["playing"], bool):
                raise bad('"playing" must be true or false', "playing")
            change = transport.play if message["playing"] else transport.stop
            accepted.append(change(source))
    except ValueError as exc:
        raise bad(str(exc)) from None
    if accepted and not all(accepted):
        raise DawhostError(
            ErrorCode.BUSY,
            "the transport follows MIDI clock or Link right now; "
            "network transport changes are ignored until it stops",
        )
    return bool(accepted)


def binary_frame(request_id: str | int, index: int, name: str, path: Path, data: bytes) -> bytes:
    """A result file as one binary frame: a 4-byte big-endian header length, a UTF-8 JSON
    header {id, index, name, media_type, path, size}, then the file's bytes."""
    header = json.dumps(
        {
            "id": request_id,
            "index": index,
            "name": name,
            "media_type": media_type(path),
            "path": str(path),
            "size": len(data),
        }
    )
    encoded = header.encode()
    return struct.pack(">I", len(encoded)) + encoded + data


def split_binary_frame(frame: bytes) -> tuple[dict[str, Any], bytes]:
    """Inverse of `binary_frame` (for clients written in Python, and tests)."""
    (length,) = struct.unpack(">I", frame[:4])
    return json.loads(frame[4 : 4 + length]), frame[4 + length :]
