"""The core's own checks, the same for every wire: model, exposure, options, inputs, length."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

import host
from host import Capability, Field, InputKind, InputSpec, Model
from host.config import Manifest, ModelSettings, ServerConfig
from host.core import Core
from host.errors import DawhostError, ErrorCode
from host.requests import Request
from tests.fakes import EchoContinuer


class BarsAtTempo(Model):
    """A render whose length is `bars` at `tempo`, at most 10 s; sing needs notes."""

    model_id = "bars-at-tempo"
    capabilities = frozenset({Capability.SING, Capability.SPEAK})
    inputs = (
        InputSpec("lyrics", InputKind.TEXT, "words"),
        InputSpec(
            "notes", InputKind.NOTES, "melody", required=False, required_for=frozenset({"sing"})
        ),
    )

    class Options(host.Options):
        bars: int = Field(2, ge=1, le=16)
        tempo: float | None = Field(None, ge=20.0, le=300.0)
        max_seconds: ClassVar[float | None] = 10.0

    def run(self, job: host.Job) -> Any:
        yield from ()


def _core(tmp_path: Path, manifest: Manifest | None = None) -> Core:
    models = {m.model_id: m for m in (EchoContinuer(), BarsAtTempo())}
    return Core(ServerConfig(work_dir=tmp_path), models, manifest)


def _refusal(core: Core, request: Request) -> DawhostError:
    with pytest.raises(DawhostError) as refused:
        core.build_job(request)
    return refused.value


def test_length_limit_uses_the_tempo_option_else_the_transport(tmp_path: Path) -> None:
    core = _core(tmp_path)
    lyrics = {"lyrics": "la"}
    core.build_job(Request("1", "bars-at-tempo", "speak", {"bars": 5}, lyrics))  # 10 s at 120
    too_long = _refusal(core, Request("2", "bars-at-tempo", "speak", {"bars": 6}, lyrics))
    assert too_long.code is ErrorCode.BAD_OPTION and too_long.field == "bars"
    assert "12.0 s" in too_long.message and "at most 5 bars" in too_long.message
    core.build_job(Request("3", "bars-at-tempo", "speak", {"bars": 6, "tempo": 150}, lyrics))
    core.transport.set_tempo(60.0)
    assert _refusal(core, Request("4", "bars-at-tempo", "speak", {"bars": 3}, lyrics)).field


def test_an_input_can_be_required_by_one_verb(tmp_path: Path) -> None:
    core = _core(tmp_path)
    core.build_job(Request("1", "bars-at-tempo", "speak", inputs={"lyrics": "la"}))
    needs = _refusal(core, Request("2", "bars-at-tempo", "sing", inputs={"lyrics": "la"}))
    assert needs.code is ErrorCode.BAD_INPUT and needs.field == "notes"
    assert "needs input 'notes' to sing" in needs.message


def test_exposure_is_checked_by_the_core_for_every_wire(tmp_path: Path) -> None:
    manifest = Manifest((), {"bars-at-tempo": ModelSettings(expose=("websocket",))})
    core = _core(tmp_path, manifest)
    request = {"inputs": {"lyrics": "la"}, "client": "c"}
    core.build_job(Request("1", "bars-at-tempo", "speak", frontend="websocket", **request))
    core.build_job(Request("2", "bars-at-tempo", "speak", **request))  # in-process: any
    hidden = _refusal(core, Request("3", "bars-at-tempo", "speak", frontend="osc", **request))
    assert hidden.code is ErrorCode.UNKNOWN_MODEL and "available: fake-echo" in hidden.message


def test_seed_is_checked_however_the_request_was_built(tmp_path: Path) -> None:
    core = _core(tmp_path)
    bad = _refusal(
        core, Request("1", "fake-echo", "continue", inputs={"primer": [60, 1, 0, 1]}, seed=-3)
    )
    assert bad.field == "seed"


class TempoSetter(Model):
    """Answers with a transport change (as an analysis with apply_to_transport does)."""

    model_id = "tempo-setter"
    capabilities = frozenset({Capability.TRANSCRIBE})

    class Options(host.Options):
        tempo: float = Field(96.0, ge=1.0, le=2000.0)
        numerator: int = Field(3, ge=1, le=64)

    def run(self, job: host.Job) -> Any:
        yield host.TransportChange(
            tempo=job.options.tempo, numerator=job.options.numerator, denominator=4
        )


def _transport_request(tmp_path: Path, options: dict[str, Any], midi_clock: bool = False):  # type: ignore[no-untyped-def]
    import asyncio

    from host.memory import MemoryFrontend
    from host.requests import OutputEvent
    from host.transport import TransportSource

    async def main():  # type: ignore[no-untyped-def]
        # A clock that stands still: the MIDI clock's hold on the transport cannot expire
        # while the worker starts.
        transport = host.Transport(clock=lambda: 1000.0)
        core = Core(
            ServerConfig(work_dir=tmp_path), {"tempo-setter": TempoSetter()}, None, transport
        )
        heard = []
        core.transport.subscribe(heard.append)
        if midi_clock:
            core.transport.set_tempo(100.0, TransportSource.MIDI_CLOCK)
            heard.clear()
        try:
            events = await MemoryFrontend(core).request(
                "tempo-setter", "transcribe", options=options
            )
        finally:
            await core.shutdown()
        outputs = [e.output for e in events if isinstance(e, OutputEvent)]
        return core.transport.snapshot(), heard, outputs, events[-1]

    return asyncio.run(main())


def test_a_transport_change_result_sets_the_transport_and_is_announced(tmp_path: Path) -> None:
    snapshot, heard, outputs, done = _transport_request(tmp_path, {"tempo": 96.5})
    assert done.type == "done"
    assert (snapshot.tempo, snapshot.numerator, snapshot.denominator) == (96.5, 3, 4)
    assert heard and heard[-1].tempo == 96.5 and heard[-1].numerator == 3  # clients hear it
    (change,) = outputs
    assert change.name == "transport"
    assert change.data == {"tempo": 96.5, "signature": [3, 4], "applied": True}


def test_a_transport_change_says_why_it_was_not_applied(tmp_path: Path) -> None:
    snapshot, heard, outputs, done = _transport_request(tmp_path, {"tempo": 1500.0})
    assert done.type == "done" and snapshot.tempo == 120.0 and not heard
    assert outputs[0].data["applied"] is False and "tempo must be" in outputs[0].data["reason"]
    snapshot, heard, outputs, _ = _transport_request(
        tmp_path / "midi", {"tempo": 90.0}, midi_clock=True
    )
    assert snapshot.tempo == 100.0 and snapshot.numerator == 4 and not heard
    assert outputs[0].data["applied"] is False and "MIDI clock" in outputs[0].data["reason"]
