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
