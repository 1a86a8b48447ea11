"""Option schemas: specs for front-ends, validation messages, CC scaling."""

from __future__ import annotations

from typing import Literal

import pytest

import host
from host import Field
from host.errors import DawhostError, ErrorCode
from host.options import option_specs, validate_options


class Options(host.Options):
    temperature: float = Field(1.0, ge=0.5, le=1.5, description="How adventurous")
    bars: int = Field(4, ge=1, le=16, description="Length in bars")
    style: Literal["bach", "folk"] = Field("bach", description="Style token")
    quantize: bool = Field(False, description="Snap to the grid")


def test_specs_carry_bounds_defaults_and_descriptions() -> None:
    specs = {s.name: s for s in option_specs(Options)}
    assert specs["temperature"].minimum == 0.5 and specs["temperature"].maximum == 1.5
    assert specs["bars"].type == "int" and specs["bars"].default == 4
    assert specs["style"].choices == ("bach", "folk")
    assert specs["quantize"].osc_type_tag == "T"
    assert specs["bars"].description == "Length in bars"


def test_cc_scaling_uses_the_bounds() -> None:
    specs = {s.name: s for s in option_specs(Options)}
    assert specs["temperature"].scale_from_unit(0.0) == 0.5
    assert specs["temperature"].scale_from_unit(1.0) == 1.5
    assert specs["bars"].scale_from_unit(127 / 127) == 16
    assert specs["style"].scale_from_unit(0.99) == "folk"


def test_validation_messages_name_field_value_and_allowed() -> None:
    with pytest.raises(DawhostError) as caught:
        validate_options(Options, {"bars": 40}, "demo")
    assert caught.value.code is ErrorCode.BAD_OPTION
    assert "'bars'" in caught.value.message and "40" in caught.value.message
    assert "1 to 16" in caught.value.message
    with pytest.raises(DawhostError) as caught:
        validate_options(Options, {"style": "jazz"})
    assert "'bach', 'folk'" in caught.value.message


def test_wire_values_are_coerced() -> None:
    options = validate_options(Options, {"bars": 8.0, "temperature": 1, "quantize": 1})
    assert options.bars == 8 and options.temperature == 1.0 and options.quantize is True
    assert validate_options(Options, {"bars": "3"}).bars == 3
