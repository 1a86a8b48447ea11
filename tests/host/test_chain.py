"""Chains through the core: a continue whose primer a transcriber makes from a recording, as
one request (one accepted, progress over both, the step's outputs first, one done)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import host
from host import Capability, Field, InputKind, InputSpec, Model, Note, NotesOutput
from host.errors import ErrorCode
from host.memory import MemoryFrontend, collect
from host.outputs import DataOutput, FileOutput
from host.request_parsing import parse_steps
from host.requests import Accepted, Done, Error, OutputEvent, Progress, Step
from tests.fakes import EchoContinuer, FakeTranscriber, SineRenderer, make_core, write_tones

C_E_G = [60, 64, 67]


class SlowEcho(Model):
    """Echoes its primer once after `seconds` of work (progress every 5 ms)."""

    model_id = "slow-echo"
    capabilities = frozenset({Capability.CONTINUE_MIDI})
    inputs = (InputSpec("primer", InputKind.NOTES, "notes"),)

    class Options(host.Options):
        seconds: float = Field(5.0, ge=0.0, le=60.0)

    def run(self, job: host.Job) -> Iterator[NotesOutput]:
        deadline = time.monotonic() + job.options.seconds
        while time.monotonic() < deadline:
            job.progress(1 - (deadline - time.monotonic()) / job.options.seconds, "echoing")
            time.sleep(0.005)
        primer: list[Note] = job.inputs["primer"]
        yield NotesOutput([replace(n, start=n.start + 4) for n in primer])


def _core(tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_core(tmp_path, EchoContinuer(), FakeTranscriber(), SineRenderer(), SlowEcho())


def _chain(audio: object, **step_options: object) -> dict[str, object]:
    return {"primer": Step("fake-transcribe", None, dict(step_options), {"audio": audio})}


def test_transcribe_then_continue_is_one_request(tmp_path: Path) -> None:
    wav = write_tones(tmp_path / "hum.wav", C_E_G)

    async def main() -> list:  # type: ignore[type-arg]
        core = _core(tmp_path)
        try:
            return await MemoryFrontend(core).request(
                "fake-echo", "continue", inputs=_chain(str(wav)), options={"repeats": 1}, seed=3
            )
        finally:
            await core.shutdown()

    events = asyncio.run(main())
    accepted = [e for e in events if isinstance(e, Accepted)]
    assert len(accepted) == 1 and accepted[0].model_id == "fake-echo"
    fractions = [e.fraction for e in events if isinstance(e, Progress)]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(e.message.startswith("fake-transcribe: ") for e in events if isinstance(e, Progress))
    outputs = [e for e in events if isinstance(e, OutputEvent)]
    assert [o.index for o in outputs] == list(range(len(outputs)))
    heard = outputs[1].output
    assert (
        isinstance(outputs[0].output, FileOutput)
        and outputs[0].output.name == "fake-transcribe.midi"
    )
    assert isinstance(heard, DataOutput) and heard.name == "fake-transcribe.notes"
    assert [n[0] for n in heard.data["notes"]] == C_E_G
    echoed = [n for o in outputs[2:] for n in o.output.notes]  # type: ignore[union-attr]
    assert [(n.pitch, n.start) for n in echoed] == [(60, 0.0), (64, 1.0), (67, 2.0)]
    done = events[-1]
    assert isinstance(done, Done) and done.outputs == len(outputs)
    assert done.provenance["model"] == "fake-echo" and done.provenance["seed"] == 3
    assert [s["model"] for s in done.provenance["steps"]] == ["fake-transcribe"]
    assert done.provenance["steps"][0]["input"] == "primer"


def test_everything_is_checked_before_the_step_runs(tmp_path: Path) -> None:
    wav = write_tones(tmp_path / "hum.wav", C_E_G)

    async def main() -> dict[str, list]:  # type: ignore[type-arg]
        core = _core(tmp_path)
        fe = MemoryFrontend(core)
        try:
            return {
                "main option": await fe.request(
                    "fake-echo", "continue", inputs=_chain(str(wav)), options={"repeats": 99}
                ),
                "step option": await fe.request(
                    "fake-echo", "continue", inputs=_chain(str(wav), threshold=5)
                ),
                "step input": await fe.request(
                    "fake-echo", "continue", inputs=_chain(str(tmp_path / "nope.wav"))
                ),
                "step model": await fe.request(
                    "fake-echo", "continue", inputs={"primer": Step("no-such-model")}
                ),
                "kind": await fe.request(
                    "fake-echo", "continue", inputs={"primer": Step("fake-sine", None, {}, {})}
                ),
                "not an input": await fe.request(
                    "fake-echo", "continue", inputs={"melody": Step("fake-transcribe")}
                ),
            }
        finally:
            await core.shutdown()

    results = asyncio.run(main())
    for case, events in results.items():
        assert len(events) == 1, (case, events)  # refused at once: nothing was queued
        assert isinstance(events[0], Error), case
    errors = {case: events[0] for case, events in results.items()}
    assert errors["main option"].field == "repeats"
    assert errors["step option"].code is ErrorCode.BAD_OPTION
    assert errors["step option"].field == "fake-transcribe.threshold"
    assert errors["step option"].message.startswith("step 'fake-transcribe' (making 'primer'): ")
    assert errors["step input"].field == "fake-transcribe.audio"
    assert errors["step model"].code is ErrorCode.UNKNOWN_MODEL
    assert "step 'no-such-model'" in errors["step model"].message
    assert errors["kind"].field == "primer_from" and "takes notes" in errors["kind"].message
    assert errors["not an input"].code is ErrorCode.BAD_INPUT


def test_a_step_that_hears_nothing_says_so(tmp_path: Path) -> None:
    wav = write_tones(tmp_path / "quiet.wav", [None, None])

    async def main() -> list:  # type: ignore[type-arg]
        core = _core(tmp_path)
        try:
            return await MemoryFrontend(core).request(
                "fake-echo", "continue", inputs=_chain(str(wav))
            )
        finally:
            await core.shutdown()

    events = asyncio.run(main())
    error = events[-1]
    assert isinstance(error, Error) and error.code is ErrorCode.BAD_INPUT
    assert error.field == "primer" and "made no notes" in error.message
    assert sum(isinstance(e, Accepted) for e in events) == 1


def test_cancel_stops_the_step_and_nothing_after_it_runs(tmp_path: Path) -> None:
    wav = write_tones(tmp_path / "hum.wav", C_E_G)

    async def main() -> tuple[list, list]:  # type: ignore[type-arg]
        core = _core(tmp_path)
        fe = MemoryFrontend(core)
        try:
            rid, queue = fe.submit("slow-echo", "continue", inputs=_chain(str(wav), seconds=30))
            while True:  # the step is working
                event = await asyncio.wait_for(queue.get(), 30)
                if isinstance(event, Progress) and event.message == "fake-transcribe: wait":
                    break
            assert fe.cancel(rid)
            cancelled = await collect(queue)
            # the id is free again and the models serve the next request
            again = await fe.request(
                "fake-echo", "continue", request_id=rid, inputs=_chain(str(wav))
            )
            return cancelled, again
        finally:
            await core.shutdown()

    cancelled, again = asyncio.run(main())
    error = cancelled[-1]
    assert isinstance(error, Error) and error.code is ErrorCode.CANCELLED
    assert not any(isinstance(e, OutputEvent) for e in cancelled)
    assert isinstance(again[-1], Done)


def test_cancel_stops_the_last_model_too(tmp_path: Path) -> None:
    wav = write_tones(tmp_path / "hum.wav", C_E_G)

    async def main() -> list:  # type: ignore[type-arg]
        core = _core(tmp_path)
        fe = MemoryFrontend(core)
        try:
            rid, queue = fe.submit(
                "slow-echo", "continue", inputs=_chain(str(wav)), options={"seconds": 30}
            )
            events = []
            while True:
                event = await asyncio.wait_for(queue.get(), 30)
                events.append(event)
                if isinstance(event, Progress) and event.message == "echoing":
                    break
            assert fe.cancel(rid)
            return events + await collect(queue)
        finally:
            await core.shutdown()

    events = asyncio.run(main())
    assert isinstance(events[-1], Error) and events[-1].code is ErrorCode.CANCELLED
    echoing = [e.fraction for e in events if isinstance(e, Progress) and e.message == "echoing"]
    assert echoing and all(0.3 <= f <= 1.0 for f in echoing)
    assert [o.output.name for o in events if isinstance(o, OutputEvent)] == [
        "fake-transcribe.midi",
        "fake-transcribe.notes",
    ]


def test_chains_nest_and_audio_can_be_made_too(tmp_path: Path) -> None:
    """render(notes from continue(primer from transcribe)): the echo of what was heard, as audio."""
    wav = write_tones(tmp_path / "hum.wav", C_E_G)
    inputs = {"notes": Step("fake-echo", None, {}, _chain(str(wav)))}

    async def main() -> list:  # type: ignore[type-arg]
        core = _core(tmp_path)
        try:
            return await MemoryFrontend(core).request(
                "fake-sine", "render", inputs=inputs, options={"bars": 2}
            )
        finally:
            await core.shutdown()

    events = asyncio.run(main())
    assert isinstance(events[-1], Done), events[-1]
    names = [e.output.name for e in events if isinstance(e, OutputEvent)]
    assert names == [
        "fake-echo.fake-transcribe.midi",
        "fake-echo.fake-transcribe.notes",
        "fake-echo.notes",
        "audio",
    ]
    steps = events[-1].provenance["steps"]
    assert steps[0]["model"] == "fake-echo" and steps[0]["steps"][0]["model"] == "fake-transcribe"


def test_json_steps_are_read_recursively_and_refused_by_name() -> None:
    parsed = parse_steps(
        {
            "primer": {
                "from": "transcribe",
                "options": {"monophonic": True},
                "inputs": {"audio": "a"},
            }
        }
    )
    assert parsed == {"primer": Step("transcribe", None, {"monophonic": True}, {"audio": "a"})}
    assert parse_steps({"primer": [[60, 100, 0, 1]]}) == {"primer": [[60, 100, 0, 1]]}
    for bad in ({"model": "x"}, {"from": "x", "options": 3}, {"from": "x", "verb": 2}):
        try:
            parse_steps({"primer": bad})
        except host.DawhostError as exc:
            assert exc.field == "inputs.primer" and exc.code is ErrorCode.BAD_REQUEST
        else:
            raise AssertionError(f"{bad} was accepted")
