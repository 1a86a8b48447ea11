"""The request fields every wire shares, parsed once: seed, start, verb, transport changes.

OSC, WebSocket, OSCQuery's WebSocket, MIDI and the CLI decode their own framing (argument
lists, JSON objects, CC numbers) and hand the values to these functions, so a seed, a start
position or a tempo is accepted, refused and described the same way whichever wire sent it.
What the core checks itself (model, exposure, options, inputs) lives in `host.core`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from host.errors import DawhostError, ErrorCode
from host.model import Capability, Model
from host.requests import Step
from host.transport import Transport, TransportSource, parse_position

MAX_SEED = 2**63  # what OSC's int64 and JSON integers carry back unchanged
TRANSPORT_FIELDS = ("tempo", "playing", "position", "signature")


def parse_seed(value: Any) -> int | None:
    """A request's `seed`: None (a fresh one is drawn) or an int 0 <= seed < 2**63.
    Max sends ints as floats when a message box holds "7.", so integral floats are ints."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_SEED:
        raise DawhostError(ErrorCode.BAD_OPTION, f"seed {value!r} must be an int >= 0", "seed")
    return value


def parse_start(value: Any, beats_per_bar: float, field: str = "start") -> float | None:
    """Where a result should land: a beat number >= 0 or "bar:beat" text (bars and beats
    count from 1); None when not given."""
    if value is None:
        return None
    try:
        return parse_position(value, beats_per_bar)
    except ValueError:
        pass
    raise DawhostError(
        ErrorCode.BAD_REQUEST,
        f'{field} {value!r} must be a beat number >= 0 or "bar:beat" text such as "5:1"',
        field=field,
    )


def resolve_verb(model: Model, verb: Any) -> str:
    """The verb a request asks of `model`; a model with one capability needs none."""
    if verb is None:
        if len(model.capabilities) != 1:
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                f"model {model.model_id!r} can {', '.join(model.verbs())}: say which verb",
                field="verb",
            )
        return next(iter(model.capabilities)).verb
    if not isinstance(verb, str) or Capability.from_verb(verb) is None:
        raise DawhostError(
            ErrorCode.BAD_REQUEST,
            f"unknown verb {verb!r}; model {model.model_id!r} can: {', '.join(model.verbs())}",
            field="verb",
        )
    return verb


STEP_FIELDS = ("from", "verb", "options", "inputs")


def parse_steps(inputs: Mapping[str, Any], where: str = "inputs", depth: int = 0) -> dict[str, Any]:
    """JSON inputs with chain steps read: an input whose value is an object
    `{"from": model, "verb"?, "options"?, "inputs"?}` is made by that model first (see
    `host.chain`); other values pass through for the core to check."""
    parsed: dict[str, Any] = {}
    for name, value in inputs.items():
        if not isinstance(value, Mapping):
            parsed[name] = value
            continue
        field = f"{where}.{name}"
        unknown = sorted(set(value) - set(STEP_FIELDS))
        model = value.get("from")
        if unknown or not isinstance(model, str) or not model:
            problem = f"unknown field(s) {', '.join(unknown)}" if unknown else 'no "from" model'
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                f'{field} is an object, so it is made by another model first: {{"from": '
                f'"<model>", "options": {{...}}, "inputs": {{...}}}} ({problem})',
                field,
            )
        verb, options, step_inputs = (
            value.get("verb"),
            value.get("options", {}),
            value.get("inputs", {}),
        )
        if verb is not None and not isinstance(verb, str):
            raise DawhostError(ErrorCode.BAD_REQUEST, f"{field}.verb must be a verb", field)
        for key, part in (("options", options), ("inputs", step_inputs)):
            if not isinstance(part, Mapping):
                raise DawhostError(
                    ErrorCode.BAD_REQUEST, f"{field}.{key} must be an object of name: value", field
                )
        if depth >= 4:  # host.chain refuses deep chains with a clear word; stop recursing here
            raise DawhostError(ErrorCode.BAD_REQUEST, f"{field}: chains nest too deep", field)
        parsed[name] = Step(
            model, verb, dict(options), parse_steps(step_inputs, f"{field}.inputs", depth + 1)
        )
    return parsed


def apply_transport(
    transport: Transport,
    changes: Mapping[str, Any],
    source: TransportSource = TransportSource.NETWORK,
    at: float | None = None,
) -> bool:
    """Apply `{tempo, playing, position, signature}` (any subset) from a network client.
    Returns False when nothing was asked; raises DawhostError naming a bad field, or BUSY
    when a higher-priority source (MIDI clock, Link) owns the transport. Any thread; `at` is
    the monotonic time the change takes effect (a timetagged OSC bundle)."""
    unknown = sorted(set(changes) - set(TRANSPORT_FIELDS))
    if unknown:
        raise DawhostError(
            ErrorCode.BAD_REQUEST,
            f"unknown transport field(s) {', '.join(unknown)}; use {', '.join(TRANSPORT_FIELDS)}",
            unknown[0],
        )
    accepted: list[bool] = []
    try:
        if "signature" in changes:
            value = changes["signature"]
            if not (
                isinstance(value, (list, tuple))
                and len(value) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            ):
                raise _bad_field("signature", "must be two ints, numerator and denominator")
            accepted.append(transport.set_signature(value[0], value[1], source, at))
        if "tempo" in changes:
            tempo = changes["tempo"]
            if isinstance(tempo, bool) or not isinstance(tempo, (int, float)):
                raise _bad_field("tempo", "must be a number of BPM")
            accepted.append(transport.set_tempo(float(tempo), source, at))
        if "position" in changes:
            beat = parse_start(changes["position"], transport.beats_per_bar, "position")
            if beat is None:
                raise _bad_field("position", 'must be a beat number or "bar:beat" text')
            accepted.append(transport.set_position(beat, source, at))
        if "playing" in changes:
            playing = changes["playing"]
            if playing not in (True, False, 0, 1) or isinstance(playing, float):
                raise _bad_field("playing", "must be true or false")
            change = transport.play if playing else transport.stop
            accepted.append(change(source, at))
    except ValueError as exc:  # the transport's own range checks (tempo 20..999, ...)
        raise DawhostError(ErrorCode.BAD_REQUEST, str(exc)) from None
    if accepted and not all(accepted):
        raise DawhostError(
            ErrorCode.BUSY,
            "the transport follows MIDI clock or Link right now; "
            "network transport changes are ignored until it stops",
        )
    return bool(accepted)


def _bad_field(name: str, problem: str) -> DawhostError:
    return DawhostError(ErrorCode.BAD_REQUEST, f"transport {name} {problem}", name)
