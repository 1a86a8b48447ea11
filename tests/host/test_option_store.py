"""The core's option store: server defaults every wire's requests start from."""

from __future__ import annotations

from pathlib import Path

import pytest

from host.errors import DawhostError, ErrorCode
from host.option_store import OptionStore
from host.requests import Request
from tests.fakes import EchoContinuer, make_core


def test_defaults_layer_schema_then_manifest_then_store() -> None:
    model = EchoContinuer()
    model.default_options = {"repeats": 3}  # as the manifest's [models.x] defaults set it
    store = OptionStore()
    assert store.defaults(model) == {"repeats": 3}
    assert store.set(model, "repeats", 5.0) == 5  # typed by the schema (Max sends floats)
    assert store.defaults(model) == {"repeats": 5} and store.changed("fake-echo") == {"repeats": 5}


def test_a_refused_value_is_named_and_not_stored() -> None:
    model, store = EchoContinuer(), OptionStore()
    with pytest.raises(DawhostError) as refused:
        store.set(model, "repeats", 99)
    assert refused.value.code is ErrorCode.BAD_OPTION and refused.value.field == "repeats"
    with pytest.raises(DawhostError) as unknown:
        store.set(model, "loudness", 1)
    assert unknown.value.code is ErrorCode.UNKNOWN_OPTION
    assert store.changed("fake-echo") == {}


def test_listeners_hear_each_change_until_they_unsubscribe() -> None:
    model, store = EchoContinuer(), OptionStore()
    heard: list[tuple[str, str, object]] = []
    unsubscribe = store.subscribe(lambda *change: heard.append(change))
    store.set(model, "repeats", 2)
    unsubscribe()
    store.set(model, "repeats", 4)
    assert heard == [("fake-echo", "repeats", 2)]


def test_every_request_starts_from_the_store(tmp_path: Path) -> None:
    """A default set over OSC reaches a WebSocket or MIDI request: they share the core."""
    core = make_core(tmp_path, EchoContinuer())
    core.options.set(core.models["fake-echo"], "repeats", 4)
    request = Request("1", "fake-echo", "continue", inputs={"primer": [60, 100, 0, 1]})
    _, job = core.build_job(request)
    assert job.options.repeats == 4  # type: ignore[attr-defined]
    _, explicit = core.build_job(
        Request("2", "fake-echo", "continue", {"repeats": 1}, {"primer": [60, 100, 0, 1]})
    )
    assert explicit.options.repeats == 1  # type: ignore[attr-defined]
