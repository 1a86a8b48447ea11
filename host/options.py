"""Model option schemas: the one source of truth for bounds, defaults and descriptions.

Every front-end (OSC argument checks, OSCQuery RANGE, MIDI CC scaling, WebSocket validation,
the browser's sliders, the CLI's flags) reads options through `option_specs()` and validates
through `validate_options()`, so a bound is written once, in the model's `Options` class.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

import annotated_types
import pydantic
from pydantic import BaseModel, ConfigDict, Field

from host.errors import DawhostError, ErrorCode

__all__ = [
    "Field",
    "OptionSpec",
    "Options",
    "check_length",
    "option_specs",
    "resolved_tempo",
    "validate_options",
]

# What a client sends for "no value" of an optional option: JSON null, OSC nil, or, from Max
# and the CLI where null cannot be typed, the word "none".
NONE_WORDS = ("none", "None")


class Options(BaseModel):
    """Base class for a model's options. Subclass it and declare fields with `Field`.

    Example::

        class Options(host.Options):
            temperature: float = Field(1.0, ge=0.1, le=2.0, description="Sampling temperature")
            bars: int = Field(4, ge=1, le=32, description="Length in bars")
            tempo: float | None = Field(None, ge=20, le=300, description="BPM; none: transport")
            max_seconds: ClassVar[float | None] = 32.0

    An option typed `X | None` is optional: None (null, OSC nil, "none") means "not set", and
    its range applies to the values that are set. A model whose `bars` at its `tempo` (the
    option, else the transport's) may last at most some time declares it as `max_seconds`;
    the core refuses longer requests before they are queued, so no plugin repeats the check.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_seconds: ClassVar[float | None] = None


@dataclass(frozen=True)
class OptionSpec:
    """What a front-end needs to know about one option."""

    name: str
    type: str  # "int", "float", "bool", "str"
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None
    optional: bool = False  # None is a value too: "not set" (the transport's tempo, say)

    @property
    def osc_type_tag(self) -> str:
        return {"int": "i", "float": "f", "bool": "T", "str": "s"}[self.type]

    def scale_from_unit(self, fraction: float) -> Any:
        """Map 0..1 (a MIDI CC / 127, a slider position) onto this option's range."""
        fraction = min(1.0, max(0.0, fraction))
        if self.choices:
            index = min(len(self.choices) - 1, int(fraction * len(self.choices)))
            return self.choices[index]
        if self.type == "bool":
            return fraction >= 0.5
        if self.minimum is None or self.maximum is None:
            raise ValueError(f"option {self.name!r} has no bounds to scale onto")
        value = self.minimum + fraction * (self.maximum - self.minimum)
        return round(value) if self.type == "int" else value

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "description": self.description,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "choices": list(self.choices) if self.choices else None,
            "optional": self.optional,
        }


_SCALAR_TYPES = {int: "int", float: "float", bool: "bool", str: "str"}


def _describe_annotation(annotation: Any) -> tuple[str, tuple[Any, ...] | None, bool]:
    """(type name, choices, optional) of one field's annotation."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1 and len(typing.get_args(annotation)) == 2:
            type_name, choices, _ = _describe_annotation(members[0])
            return type_name, choices, True
        raise TypeError(f"unsupported option type {annotation!r}; use X or X | None")
    type_name, choices = _describe_required(annotation)
    return type_name, choices, False


def _describe_required(annotation: Any) -> tuple[str, tuple[Any, ...] | None]:
    if typing.get_origin(annotation) is typing.Literal:
        choices = typing.get_args(annotation)
        return _SCALAR_TYPES[type(choices[0])], choices
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "str", tuple(member.value for member in annotation)
    if annotation in _SCALAR_TYPES:
        return _SCALAR_TYPES[annotation], None
    raise TypeError(f"unsupported option type {annotation!r}; use int, float, bool, str or Literal")


def option_specs(options_class: type[Options]) -> list[OptionSpec]:
    """List the options of a schema, in declaration order."""
    return list(_option_specs(options_class))


@functools.cache
def _option_specs(options_class: type[Options]) -> tuple[OptionSpec, ...]:
    specs = []
    for name, field in options_class.model_fields.items():
        type_name, choices, optional = _describe_annotation(field.annotation)
        minimum = maximum = None
        for constraint in field.metadata:
            if isinstance(constraint, annotated_types.Ge):
                minimum = float(constraint.ge)  # type: ignore[arg-type]
            elif isinstance(constraint, annotated_types.Le):
                maximum = float(constraint.le)  # type: ignore[arg-type]
        if type_name == "int":
            minimum = int(minimum) if minimum is not None else None
            maximum = int(maximum) if maximum is not None else None
        specs.append(
            OptionSpec(
                name=name,
                type=type_name,
                default=field.get_default(call_default_factory=True),
                description=field.description or "",
                minimum=minimum,
                maximum=maximum,
                choices=choices,
                optional=optional,
            )
        )
    return tuple(specs)


def _coerce(spec: OptionSpec, value: Any) -> Any:
    """Accept what Max and browsers actually send: ints for floats, 0/1 for bools, numeric
    strings from text fields, "none" for an optional option. Anything else is left for pydantic
    to reject by name."""
    if spec.optional and (value is None or value in NONE_WORDS):
        return None
    if spec.type == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value) if abs(value) < 1e300 else value  # pydantic names a huge int
    if spec.type == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if spec.type == "bool" and value in (0, 1):
        return bool(value)
    if spec.type in ("int", "float") and isinstance(value, str):
        try:
            return int(value) if spec.type == "int" else float(value)
        except ValueError:
            return value
    return value


def _allowed(spec: OptionSpec) -> str:
    unset = " (or none)" if spec.optional else ""
    if spec.choices:
        return "one of " + ", ".join(repr(choice) for choice in spec.choices) + unset
    if spec.minimum is not None and spec.maximum is not None:
        article = "an" if spec.type == "int" else "a"
        return f"{article} {spec.type} from {spec.minimum:g} to {spec.maximum:g}{unset}"
    return f"a {spec.type}{unset}"


def validate_options(
    options_class: type[Options], values: dict[str, Any], model_id: str = ""
) -> Options:
    """Build an Options instance from loosely typed wire values, or raise a DawhostError that
    names the field, the value sent and what is allowed."""
    specs = {spec.name: spec for spec in _option_specs(options_class)}
    where = f" for model {model_id!r}" if model_id else ""
    for name in values:
        if name not in specs:
            known = ", ".join(specs) or "none"
            raise DawhostError(
                ErrorCode.UNKNOWN_OPTION,
                f"unknown option {name!r}{where}; known options: {known}",
                field=name,
            )
    coerced = {name: _coerce(specs[name], value) for name, value in values.items()}
    try:
        return options_class(**coerced)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        spec = specs.get(name)
        allowed = _allowed(spec) if spec else first["msg"]
        raise DawhostError(
            ErrorCode.BAD_OPTION,
            f"option {name!r}{where} got {values.get(name)!r}; expected {allowed}",
            field=name,
        ) from None


def resolved_tempo(options: Options, transport_tempo: float) -> float:
    """The tempo a job renders at: its `tempo` option when set, else the transport's."""
    tempo = getattr(options, "tempo", None)
    return float(tempo) if tempo is not None else float(transport_tempo)


def check_length(
    options: Options, transport_tempo: float, beats_per_bar: float, model_id: str = ""
) -> None:
    """Refuse `bars` bars at the resolved tempo when they last longer than the schema's
    declared `max_seconds` (a DawhostError naming `bars`)."""
    limit = type(options).max_seconds
    bars = getattr(options, "bars", None)
    if limit is None or bars is None:
        return
    tempo = resolved_tempo(options, transport_tempo)
    seconds = bars * beats_per_bar * 60.0 / tempo
    if seconds > limit + 1e-9:
        where = f"model {model_id!r} " if model_id else ""
        most = int(limit * tempo / 60.0 / beats_per_bar)
        raise DawhostError(
            ErrorCode.BAD_OPTION,
            f"{bars} bars at {tempo:g} BPM last {seconds:.1f} s; {where}renders at most "
            f"{limit:g} s: at this tempo send at most {most} bars, or a faster tempo",
            field="bars",
        )
