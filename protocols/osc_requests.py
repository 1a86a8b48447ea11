"""Turns OSC request arguments into the core's `Request`, and core events into OSC replies.

Pure functions with no sockets, so the wire format (documented in `protocols.osc`) is tested
message by message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from host.errors import DawhostError, ErrorCode
from host.model import InputKind, Model
from host.options import option_specs
from host.outputs import AudioOutput, DataOutput, FileOutput, NotesOutput, StemsOutput
from host.request_parsing import parse_seed, parse_start
from host.requests import Accepted, Done, Error, Event, OutputEvent, Progress, Request, Step

OscReply = tuple[str, list[Any]]  # (address, arguments)
RequestId = str | int
# Keys every request takes besides the model's inputs and options (`deliver`, `latency_ms`,
# `align`: how notes come back, see protocols.osc_timed).
DELIVERY_KEYS = ("deliver", "latency_ms", "align")
RESERVED_KEYS = ("seed", "start", *DELIVERY_KEYS)
STEP_SUFFIX = "_from"  # `primer_from transcribe`: a chain step makes the input (host.chain)
CHAINABLE = (InputKind.NOTES, InputKind.AUDIO_FILE)


def request_id_of(value: Any) -> RequestId:
    """Max sends ids as ints or symbols; replies echo the id with the type it came in."""
    if isinstance(value, bool) or value is None:
        raise DawhostError(ErrorCode.BAD_REQUEST, "the request id must be an int or a string")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:  # what OSC can carry back (int64 'h')
            return value
        raise DawhostError(
            ErrorCode.BAD_REQUEST,
            f"the request id {value:.3g} is too large for OSC; use a smaller int or a string",
        )
    if isinstance(value, str) and value and len(value) <= 200:
        return value
    raise DawhostError(
        ErrorCode.BAD_REQUEST,
        f"the first argument must be a request id (an int or a short string), got {value!r}",
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Target:
    """A model whose keys a request's arguments fill: the addressed one, or a chain step."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.inputs = {spec.name: spec for spec in model.inputs}
        self.options = {spec.name for spec in option_specs(model.Options)}
        self.values: dict[str, Any] = {}

    def takes(self, key: str) -> bool:
        return key in self.inputs or key in self.options

    def request_values(self) -> tuple[dict[str, Any], dict[str, Any]]:
        values = self.values
        options = {k: v for k, v in values.items() if k in self.options}
        return options, {k: v for k, v in values.items() if k in self.inputs}


def _find_steps(
    main: _Target, args: Sequence[Any], models: Mapping[str, Model]
) -> dict[str, _Target]:
    """`<input>_from <model-id>` pairs: the inputs another model makes first (a chain)."""
    steps: dict[str, _Target] = {}
    for index in range(1, len(args) - 1):
        key = args[index]
        if not (isinstance(key, str) and key.endswith(STEP_SUFFIX)):
            continue
        name = key[: -len(STEP_SUFFIX)]
        if name not in main.inputs:
            continue
        model_id = args[index + 1]
        model = models.get(model_id) if isinstance(model_id, str) else None
        if model is None:
            known = ", ".join(sorted(models)) or "none"
            raise DawhostError(
                ErrorCode.UNKNOWN_MODEL,
                f"{key} {model_id!r}: no such model; models: {known}",
                field=key,
            )
        if name in steps:
            raise DawhostError(ErrorCode.BAD_REQUEST, f"key {key!r} is given twice", field=key)
        steps[name] = _Target(model)
    return steps


def _route(key: str, main: _Target, steps: dict[str, _Target]) -> tuple[_Target, str]:
    """Which model a key belongs to: `<step-model>.<key>` names a step's; a key the addressed
    model takes is its own; any other key goes to the one step that takes it."""
    if key in RESERVED_KEYS or main.takes(key):
        return main, key
    head, dot, rest = key.partition(".")
    if dot:
        for name, step in steps.items():
            if head in (step.model.model_id, name) and (step.takes(rest) or rest == "verb"):
                return step, rest
    takers = [step for step in steps.values() if step.takes(key)]
    if len(takers) == 1:
        return takers[0], key
    if len(takers) > 1:
        raise DawhostError(
            ErrorCode.BAD_REQUEST,
            f"key {key!r} belongs to more than one step; write <step-model>.{key}",
            field=key,
        )
    extra = "".join(
        f"; {step.model.model_id} (making {name!r}): "
        + ", ".join(sorted(step.options | set(step.inputs)))
        for name, step in steps.items()
    )
    raise DawhostError(
        ErrorCode.UNKNOWN_OPTION,
        f"model {main.model.model_id!r} has no option or input {key!r}; options: "
        f"{', '.join(sorted(main.options)) or 'none'}; inputs: "
        f"{', '.join(main.inputs) or 'none'}; also {', '.join(RESERVED_KEYS)}"
        + (
            ", <input>_from <model>"
            if any(s.kind in CHAINABLE for s in main.inputs.values())
            else ""
        )
        + extra,
        field=key,
    )


def parse_request(
    model: Model,
    verb: str,
    args: Sequence[Any],
    client: str,
    beats_per_bar: float = 4.0,
    models: Mapping[str, Model] | None = None,
) -> tuple[RequestId, Request]:
    """`<request-id> <key> <value> ...` -> (the id as sent, Request).

    Keys are option names, input names, `seed` and `start`. A notes input takes either one
    string (a MIDI file path), one OSC array, or every number after its name up to the next
    string (flat `pitch velocity start_beat duration_beat` groups).

    `<input>_from <model-id>` makes that input with another model first, in the same request
    (a chain, see `host.chain`): `primer_from transcribe audio /tmp/hum.wav monophonic 1`.
    The step's keys are those the addressed model does not take, or `<step-model>.<key>`
    (`transcribe.quantize 1/16`; `transcribe.verb` picks its verb); `models` are the models
    a step may name (those exposed on this wire).
    """
    if not args:
        raise DawhostError(
            ErrorCode.BAD_REQUEST,
            f"/dawhost/{model.model_id}/{verb} needs a request id first, then key value pairs",
        )
    request_id = request_id_of(args[0])
    main = _Target(model)
    steps = _find_steps(main, args, models or {})
    seen: set[str] = set()
    index = 1
    while index < len(args):
        key = args[index]
        position = index + 1
        if not isinstance(key, str):
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                f"argument {position} should be a key (an option or input name), got {key!r}; "
                "after the request id, arguments go as key value pairs",
            )
        if key in seen:
            raise DawhostError(ErrorCode.BAD_REQUEST, f"key {key!r} is given twice", field=key)
        seen.add(key)
        index += 1
        if key.endswith(STEP_SUFFIX) and key[: -len(STEP_SUFFIX)] in steps:
            index += 1  # read by _find_steps
            continue
        target, name = _route(key, main, steps)
        spec = target.inputs.get(name)
        if (
            spec is not None
            and spec.kind is InputKind.NOTES
            and (index >= len(args) or not isinstance(args[index], (str, list)))
        ):
            end = index
            while end < len(args) and _is_number(args[end]):
                end += 1
            target.values[name] = list(args[index:end])
            index = end
            continue
        if index >= len(args):
            raise DawhostError(ErrorCode.BAD_REQUEST, f"key {key!r} has no value after it", key)
        target.values[name] = args[index]
        index += 1

    for name in steps:
        if name in main.values:
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                f"input {name!r} is given and also made by {name}{STEP_SUFFIX}; send one",
                field=name,
            )
    values = main.values
    seed = parse_seed(values.pop("seed", None))
    delivery = {k: values.pop(k) for k in DELIVERY_KEYS if k in values}
    start_beat = parse_start(values.pop("start", None), beats_per_bar)
    options, inputs = main.request_values()
    for name, step in steps.items():
        step_options, step_inputs = step.request_values()
        step_verb = step.values.get("verb")
        inputs[name] = Step(step.model.model_id, step_verb, step_options, step_inputs)
    request = Request(
        request_id=str(request_id),
        model_id=model.model_id,
        verb=verb,
        options=options,
        inputs=inputs,
        seed=seed,
        start_beat=start_beat,
        client=client,
        delivery=delivery,
        frontend="osc",
    )
    return request_id, request


def encode_event(event: Event, reply_id: RequestId) -> list[OscReply]:
    """The OSC replies for one core event (several for an output with many notes or stems)."""
    if isinstance(event, Accepted):
        return [("/dawhost/accepted", [reply_id, event.model_id, event.queue_position])]
    if isinstance(event, Progress):
        return [("/dawhost/progress", [reply_id, float(event.fraction), event.message])]
    if isinstance(event, Done):
        provenance = json.dumps(event.provenance, separators=(",", ":"), default=str)
        return [("/dawhost/done", [reply_id, float(event.elapsed), event.outputs, provenance])]
    if isinstance(event, Error):
        return [error_reply(reply_id, event.code.value, event.message, event.field)]
    if isinstance(event, OutputEvent):
        return _encode_output(event, reply_id)
    raise TypeError(f"not an event: {event!r}")  # pragma: no cover - the union is closed


def _encode_output(event: OutputEvent, reply_id: RequestId) -> list[OscReply]:
    output = event.output
    if isinstance(output, NotesOutput):
        replies: list[OscReply] = [
            ("/dawhost/note", [reply_id, n.pitch, n.velocity, float(n.start), float(n.duration)])
            for n in output.notes
        ]
        replies.append(("/dawhost/output", [reply_id, "notes", output.name, len(output.notes)]))
        return replies
    if isinstance(output, AudioOutput):
        return [
            (
                "/dawhost/output",
                [reply_id, "audio", output.name, str(output.path), output.sample_rate],
            )
        ]
    if isinstance(output, StemsOutput):
        return [
            ("/dawhost/output", [reply_id, "stem", name, str(a.path), a.sample_rate])
            for name, a in output.stems.items()
        ]
    if isinstance(output, FileOutput):
        return [
            (
                "/dawhost/output",
                [reply_id, "file", output.name, str(output.path), output.media_type],
            )
        ]
    if isinstance(output, DataOutput):
        text = json.dumps(output.data, separators=(",", ":"), default=str)
        return [("/dawhost/output", [reply_id, "data", output.name, text])]
    raise TypeError(f"not an output: {output!r}")  # pragma: no cover


def error_reply(
    reply_id: RequestId | None, code: str, message: str, field: str | None = None
) -> OscReply:
    """`/dawhost/error <id> <code> <message> <field>`; id and field are "" when unknown."""
    return ("/dawhost/error", ["" if reply_id is None else reply_id, code, message, field or ""])
