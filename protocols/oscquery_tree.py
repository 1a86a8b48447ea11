"""The OSCQuery description of dawhost's OSC address space, built from the live core.

Attribute names follow the OSCQuery proposal (FULL_PATH, CONTENTS, TYPE, ACCESS, VALUE, RANGE,
DESCRIPTION, CLIPMODE). Options get TYPE, RANGE and VALUE from each model's Options schema, the
one source of truth for bounds; VALUE is the server default OSC requests currently use.
"""

from __future__ import annotations

from typing import Any

from host.core import Core
from host.model import Capability, InputSpec, Model
from host.options import OptionSpec, option_specs
from host.transport import MAX_TEMPO, MIN_TEMPO

Node = dict[str, Any]
NO_VALUE, READ, WRITE, READ_WRITE = 0, 1, 2, 3  # ACCESS values
ATTRIBUTES = (
    "FULL_PATH",
    "CONTENTS",
    "TYPE",
    "ACCESS",
    "VALUE",
    "RANGE",
    "DESCRIPTION",
    "CLIPMODE",
    "TAGS",
    "UNIT",
    "CRITICAL",
    "EXTENDED_TYPE",
    "OVERLOADS",
    "HTML",
)


def _node(path: str, description: str, access: int = NO_VALUE, **attributes: Any) -> Node:
    node: Node = {"FULL_PATH": path, "ACCESS": access, "DESCRIPTION": description}
    node.update({k: v for k, v in attributes.items() if v is not None})
    return node


def _container(path: str, description: str, children: list[Node]) -> Node:
    node = _node(path, description)
    node["CONTENTS"] = {child["FULL_PATH"].rsplit("/", 1)[1]: child for child in children}
    return node


def option_type(spec: OptionSpec) -> str:
    return {"int": "i", "float": "f", "str": "s", "bool": "T"}[spec.type]


def option_range(spec: OptionSpec) -> list[dict[str, Any]] | None:
    if spec.choices:
        return [{"VALS": list(spec.choices)}]
    bounds = {
        key: value
        for key, value in (("MIN", spec.minimum), ("MAX", spec.maximum))
        if value is not None
    }
    return [bounds] if bounds else None


def option_node(model: Model, spec: OptionSpec, value: Any) -> Node:
    type_tag = option_type(spec)
    if spec.type == "bool":
        type_tag = "T" if value else "F"
    ranged = option_range(spec)
    description = spec.description or spec.name
    if spec.optional:
        description += " (send nil or the symbol none to unset)"
    limit = model.Options.max_seconds
    if spec.name == "bars" and limit is not None:
        description += f"; at most {limit:g} s of audio at the tempo"
    return _node(
        f"/dawhost/{model.model_id}/options/{spec.name}",
        description,
        READ_WRITE,
        TYPE=type_tag,
        VALUE=[value],
        RANGE=ranged,
        # Out-of-range values are refused with an error, never clipped.
        CLIPMODE="none" if ranged else None,
    )


def model_node(model: Model, defaults: dict[str, Any]) -> Node:
    """A model's node; `defaults` are the option values requests start from (the core's)."""
    base = f"/dawhost/{model.model_id}"
    inputs = ", ".join(f"{i.name} ({i.kind.value}{_need(i)})" for i in model.inputs) or "none"
    verbs = [
        _node(
            f"{base}/{verb}",
            f"Run a request: <request-id> then key value pairs. Inputs: {inputs}. Options: "
            'see options/. Also seed <int>, start <beat or "bar:beat">, deliver asap|timed '
            "(timed: notes as /dawhost/noteon and noteoff on the transport grid), latency_ms "
            "<ms early>, align bar|beat. Replies arrive as /dawhost/accepted, progress, note "
            "(or noteon, noteoff, scheduled, late), output, done, error.",
            WRITE,
            TYPE="s",
        )
        for verb in model.verbs()
    ]
    options = [
        option_node(model, spec, defaults.get(spec.name, spec.default))
        for spec in option_specs(model.Options)
    ]
    loaded = _node(
        f"{base}/loaded",
        "Whether the weights are loaded",
        READ,
        TYPE="T" if model.loaded else "F",
        VALUE=[model.loaded],
    )
    described = (
        "Default option values; send to this address (no arguments) for /dawhost/option <model> "
        "<name> <type> <value> <min> <max> per option"
    )
    children = [*verbs, loaded, _container(f"{base}/options", described, options)]
    return _container(base, model.description or model.model_id, children)


def transport_node(core: Core) -> Node:
    snap = core.transport.snapshot()
    base = "/dawhost/transport"
    return _container(
        base,
        "The shared musical clock",
        [
            _node(
                f"{base}/tempo",
                "Tempo in BPM",
                READ_WRITE,
                TYPE="f",
                VALUE=[snap.tempo],
                RANGE=[{"MIN": MIN_TEMPO, "MAX": MAX_TEMPO}],
                CLIPMODE="none",
            ),
            _node(f"{base}/play", "Start the transport", WRITE),
            _node(f"{base}/stop", "Stop the transport", WRITE),
            _node(
                f"{base}/playing",
                "Whether the transport is running",
                READ,
                TYPE="T" if snap.playing else "F",
                VALUE=[snap.playing],
            ),
            _node(
                f"{base}/position",
                'Position in quarter-note beats from the song start (also accepts "bar:beat" text)',
                READ_WRITE,
                TYPE="f",
                VALUE=[snap.beat],
                RANGE=[{"MIN": 0.0}],
            ),
            _node(
                f"{base}/signature",
                "Time signature: numerator, denominator",
                READ_WRITE,
                TYPE="ii",
                VALUE=[snap.numerator, snap.denominator],
                RANGE=[{"MIN": 1, "MAX": 32}, {"VALS": [1, 2, 4, 8, 16, 32]}],
            ),
            _node(
                f"{base}/sync",
                "Follow a client's transport (Max's [transport]): tempo, beat, playing 0/1, "
                "optionally numerator and denominator; only what differs is applied, the "
                "position when it is more than 4 ms off",
                WRITE,
                TYPE="ffiii",
                RANGE=[
                    {"MIN": MIN_TEMPO, "MAX": MAX_TEMPO},
                    {"MIN": 0.0},
                    {"VALS": [0, 1]},
                    {"MIN": 1, "MAX": 32},
                    {"VALS": [1, 2, 4, 8, 16, 32]},
                ],
            ),
        ],
    )


def _need(spec: InputSpec) -> str:
    if spec.required:
        return ""
    needed = f"; needed to {', '.join(sorted(spec.required_for))}" if spec.required_for else ""
    return f", optional{needed}"


def namespace(core: Core, last_progress: list[Any] | None) -> Node:
    """The whole tree, rooted at "/": what the OSC front-end serves (its exposed models)."""
    models = [model_node(m, core.options.defaults(m)) for m in core.exposed_models("osc")]
    dawhost = _container(
        "/dawhost",
        "dawhost: deep-learning music models",
        [
            _node("/dawhost/ping", "Replies /dawhost/pong with the same arguments", WRITE),
            _node(
                "/dawhost/models",
                "Replies /dawhost/model <id> <json> per model, then /dawhost/models <count> "
                "<ids>; with a capability (e.g. separate_stems), only the models that have it",
                WRITE,
                TYPE="s",
                RANGE=[{"VALS": [c.value for c in Capability]}],
            ),
            _node(
                "/dawhost/reply",
                "Register the UDP port replies go to",
                WRITE,
                TYPE="i",
                RANGE=[{"MIN": 1, "MAX": 65535}],
            ),
            _node("/dawhost/cancel", "Cancel a request by id", WRITE, TYPE="s"),
            _node(
                "/dawhost/progress",
                "Latest job progress: request id, fraction, message "
                "(LISTEN to stream every job's progress)",
                READ,
                TYPE="sfs",
                VALUE=last_progress,
            ),
            transport_node(core),
            *models,
        ],
    )
    return _container("/", "dawhost", [dawhost])


def find(tree: Node, path: str) -> Node | None:
    """The node at an OSC path ("/" is the root), or None."""
    node = tree
    for part in [p for p in path.split("/") if p]:
        contents = node.get("CONTENTS")
        if not contents or part not in contents:
            return None
        node = contents[part]
    return node
