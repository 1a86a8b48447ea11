"""The neutral request and event stream every front-end decodes into and encodes from.

A front-end turns its wire format into a `Request`, hands it to `Core.submit` with a sink, and
encodes the events the sink receives (`accepted`, `progress`, `output`, `done`, `error`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from host.errors import DawhostError, ErrorCode
from host.outputs import AudioOutput, DataOutput, FileOutput, NotesOutput, Output, StemsOutput


@dataclass(frozen=True)
class Request:
    request_id: str
    model_id: str
    verb: str
    options: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    start_beat: float | None = None  # optional musical position where the result should land
    client: str = ""  # front-end's name for the sender; request ids are unique per client
    # How the front-end hands notes back (OSC: deliver asap|timed, latency_ms, align); the core
    # runs the model the same either way.
    delivery: dict[str, Any] = field(default_factory=dict)
    frontend: str = ""  # the wire it came from, for the manifest's `expose` lists ("": any)


@dataclass(frozen=True)
class Step:
    """An input another model makes first, in the same request (a chain): a `continue` whose
    primer is what `transcribe` heard in a recording. The step's own inputs may be steps too.
    `verb` None: the step model's only verb. See `host.chain`."""

    model_id: str
    verb: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Accepted:
    request_id: str
    model_id: str
    queue_position: int
    type: str = "accepted"

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "id": self.request_id,
            "model": self.model_id,
            "queue_position": self.queue_position,
        }


@dataclass(frozen=True)
class Progress:
    request_id: str
    fraction: float
    message: str = ""
    type: str = "progress"

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "id": self.request_id,
            "fraction": self.fraction,
            "message": self.message,
        }


@dataclass(frozen=True)
class OutputEvent:
    request_id: str
    output: Output
    index: int  # 0, 1, 2... in the order the model yielded them
    type: str = "output"

    def as_dict(self) -> dict[str, Any]:
        body = {"type": self.type, "id": self.request_id, "index": self.index}
        body.update(describe_output(self.output))
        return body


@dataclass(frozen=True)
class Done:
    request_id: str
    elapsed: float
    outputs: int
    provenance: dict[str, Any]
    type: str = "done"

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "id": self.request_id,
            "elapsed": self.elapsed,
            "outputs": self.outputs,
            "provenance": self.provenance,
        }


@dataclass(frozen=True)
class Error:
    request_id: str
    code: ErrorCode
    message: str
    field: str | None = None
    type: str = "error"

    @classmethod
    def from_exception(cls, request_id: str, exc: DawhostError) -> Error:
        return cls(request_id, exc.code, exc.message, exc.field)

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "id": self.request_id,
            "code": self.code.value,
            "message": self.message,
            "field": self.field,
        }


Event = Accepted | Progress | OutputEvent | Done | Error


def describe_output(output: Output) -> dict[str, Any]:
    """An output as JSON-ready data; audio must already be written to a file."""

    def audio(item: AudioOutput) -> dict[str, Any]:
        return {"path": str(item.path), "sample_rate": item.sample_rate}

    provenance = output.provenance.as_dict() if output.provenance else None
    if isinstance(output, NotesOutput):
        body: dict[str, Any] = {
            "kind": "notes",
            "notes": [n.as_list() for n in output.notes],
            "final": output.final,
        }
    elif isinstance(output, AudioOutput):
        body = {"kind": "audio", **audio(output)}
    elif isinstance(output, StemsOutput):
        body = {"kind": "stems", "stems": {name: audio(a) for name, a in output.stems.items()}}
    elif isinstance(output, FileOutput):
        body = {"kind": "file", "path": str(output.path), "media_type": output.media_type}
    elif isinstance(output, DataOutput):
        body = {"kind": "data", "data": output.data}
    else:  # pragma: no cover - the Output union is closed
        raise TypeError(f"not an output: {output!r}")
    body.update({"name": output.name, "provenance": provenance})
    return body


def output_paths(output: Output) -> list[Path]:
    """Files an output refers to (front-ends that ship bytes, such as WebSocket, read these)."""
    if isinstance(output, AudioOutput) and output.path:
        return [output.path]
    if isinstance(output, StemsOutput):
        return [a.path for a in output.stems.values() if a.path]
    if isinstance(output, FileOutput):
        return [output.path]
    return []
