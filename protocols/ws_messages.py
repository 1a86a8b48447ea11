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

from host import request_parsing
from host.core import Core
from host.errors import DawhostError, ErrorCode
from host.request_parsing import parse_seed, parse_start, parse_steps, resolve_verb
from host.requests import Request
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
    """A `generate` message as a core Request (the core checks the model, its exposure on
    this wire, options and inputs)."""
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
    # An unknown model is the core's error; the verb can only be resolved for a known one.
    verb = resolve_verb(model, message.get("verb")) if model else str(message.get("verb"))
    options, inputs = message.get("options", {}), message.get("inputs", {})
    for name, value in (("options", options), ("inputs", inputs)):
        if not isinstance(value, dict):
            raise bad(f'"{name}" must be an object of name: value', name)
    return Request(
        request_id=rid,
        model_id=model_id,
        verb=verb,
        options=dict(options),
        inputs=parse_steps(inputs),
        seed=parse_seed(message.get("seed")),
        start_beat=parse_start(message.get("start"), core.transport.beats_per_bar),
        client=client,
        frontend=frontend,
    )


def apply_transport(core: Core, message: Mapping[str, Any]) -> bool:
    """Apply the fields of a `transport` message; False when none changed anything."""
    return request_parsing.apply_transport(
        core.transport, {k: v for k, v in message.items() if k != "type"}
    )


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
