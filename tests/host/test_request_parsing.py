"""The request fields every wire shares: one parser, one wording of each refusal."""

from __future__ import annotations

import pytest

from host.errors import DawhostError, ErrorCode
from host.request_parsing import apply_transport, parse_seed, parse_start, resolve_verb
from host.transport import Transport, TransportSource
from tests.fakes import EchoContinuer, SineRenderer


@pytest.mark.parametrize("sent,parsed", [(None, None), (0, 0), (7.0, 7), (2**63 - 1, 2**63 - 1)])
def test_seeds_max_and_json_send(sent: object, parsed: int | None) -> None:
    assert parse_seed(sent) == parsed


@pytest.mark.parametrize("sent", [True, -1, 2**63, 1.5, "7", [7]])
def test_bad_seeds_are_named(sent: object) -> None:
    with pytest.raises(DawhostError) as refused:
        parse_seed(sent)
    assert refused.value.code is ErrorCode.BAD_OPTION and refused.value.field == "seed"


def test_start_as_beats_or_bar_beat_text() -> None:
    assert parse_start(None, 4.0) is None
    assert parse_start(6, 4.0) == 6.0
    assert parse_start("2:3", 4.0) == 6.0 and parse_start("2:1", 3.0) == 3.0
    with pytest.raises(DawhostError) as refused:
        parse_start("soon", 4.0)
    assert refused.value.field == "start" and '"bar:beat"' in refused.value.message


def test_a_model_with_one_capability_needs_no_verb() -> None:
    assert resolve_verb(EchoContinuer(), None) == "continue"
    assert resolve_verb(SineRenderer(), "render") == "render"
    with pytest.raises(DawhostError) as unknown:
        resolve_verb(EchoContinuer(), "dance")
    assert unknown.value.field == "verb" and "can: continue" in unknown.value.message


def test_transport_changes_apply_together() -> None:
    transport = Transport()
    assert apply_transport(transport, {}) is False
    assert apply_transport(transport, {"tempo": 96, "signature": [3, 4], "position": "2:1"})
    snapshot = transport.snapshot()
    assert (snapshot.tempo, snapshot.numerator, snapshot.beat) == (96.0, 3, pytest.approx(3.0))
    assert apply_transport(transport, {"playing": True}) and transport.playing


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"tempo": "fast"}, "tempo"),
        ({"tempo": True}, "tempo"),
        ({"signature": [3]}, "signature"),
        ({"playing": "yes"}, "playing"),
        ({"position": "later"}, "position"),
        ({"volume": 3}, "volume"),
    ],
)
def test_bad_transport_fields_are_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(DawhostError) as refused:
        apply_transport(Transport(), changes)
    assert refused.value.field == field


def test_out_of_range_tempo_says_the_range() -> None:
    with pytest.raises(DawhostError) as refused:
        apply_transport(Transport(), {"tempo": 5})
    assert "20 to 999" in refused.value.message


def test_a_clock_source_owns_the_transport() -> None:
    transport = Transport()
    transport.set_tempo(100.0, TransportSource.MIDI_CLOCK)
    with pytest.raises(DawhostError) as busy:
        apply_transport(transport, {"tempo": 90})
    assert busy.value.code is ErrorCode.BUSY and transport.tempo == 100.0
