"""Requests through the core: validation errors, queue limits, cancel, timeout, outputs."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import soundfile

from host.engine import Engine
from host.errors import DawhostError, ErrorCode
from host.executor import Assignment, EngineSettings, Executor
from host.memory import MemoryFrontend, collect
from host.outputs import NotesOutput
from host.requests import Accepted, Done, Error, Event, OutputEvent, Progress, Request
from host.workfolder import WorkFolder
from tests.fakes import EchoContinuer, SineRenderer, SlowModel, make_core

PRIMER = [60, 100, 0, 1, 64, 90, 1, 1]


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def error_of(events: list) -> Error:  # type: ignore[type-arg]
    assert isinstance(events[-1], Error), events
    return events[-1]


def test_request_streams_accepted_progress_outputs_done(tmp_path: Path) -> None:
    async def main() -> list:  # type: ignore[type-arg]
        core = make_core(tmp_path)
        events = await MemoryFrontend(core).request(
            "fake-echo", "continue", inputs={"primer": PRIMER}, options={"repeats": 2}, seed=7
        )
        await core.shutdown()
        return events

    events = run(main())
    assert isinstance(events[0], Accepted)
    outputs = [e for e in events if isinstance(e, OutputEvent)]
    starts = [n.start for o in outputs for n in o.output.notes]
    assert starts == [0.0, 1.0, 2.0, 3.0]
    assert any(isinstance(e, Progress) for e in events)
    done = events[-1]
    assert isinstance(done, Done)
    assert done.provenance["seed"] == 7
    assert done.provenance["options"]["repeats"] == 2
    assert outputs[0].output.provenance.model_id == "fake-echo"


def test_bad_requests_name_the_problem(tmp_path: Path) -> None:
    async def main() -> dict[str, Error]:
        core = make_core(tmp_path)
        fe = MemoryFrontend(core)
        cases = {
            "unknown model": await fe.request("no-such", "continue"),
            "wrong verb": await fe.request("fake-echo", "separate", inputs={"primer": PRIMER}),
            "unknown option": await fe.request(
                "fake-echo", "continue", inputs={"primer": PRIMER}, options={"reps": 2}
            ),
            "out of range": await fe.request(
                "fake-echo", "continue", inputs={"primer": PRIMER}, options={"repeats": 9}
            ),
            "wrong type": await fe.request(
                "fake-echo", "continue", inputs={"primer": PRIMER}, options={"repeats": "x"}
            ),
            "missing input": await fe.request("fake-echo", "continue"),
            "ragged notes": await fe.request("fake-echo", "continue", inputs={"primer": [60, 1]}),
            "bad pitch": await fe.request(
                "fake-echo", "continue", inputs={"primer": [200, 100, 0, 1]}
            ),
            "unknown input": await fe.request(
                "fake-echo", "continue", inputs={"primer": PRIMER, "lyrics": "la"}
            ),
        }
        await core.shutdown()
        return {name: error_of(events) for name, events in cases.items()}

    errors = run(main())
    assert errors["unknown model"].code is ErrorCode.UNKNOWN_MODEL
    assert "fake-echo" in errors["unknown model"].message  # lists what is available
    assert errors["wrong verb"].code is ErrorCode.BAD_REQUEST
    assert errors["unknown option"].code is ErrorCode.UNKNOWN_OPTION
    assert "repeats" in errors["unknown option"].message
    assert errors["out of range"].code is ErrorCode.BAD_OPTION
    assert "9" in errors["out of range"].message and "1 to 8" in errors["out of range"].message
    assert errors["wrong type"].field == "repeats"
    assert errors["missing input"].field == "primer"
    assert "groups of 4" in errors["ragged notes"].message
    assert "pitch 200" in errors["bad pitch"].message
    assert errors["unknown input"].field == "lyrics"


def test_loose_wire_types_are_coerced(tmp_path: Path) -> None:
    async def main() -> list:  # type: ignore[type-arg]
        core = make_core(tmp_path)
        events = await MemoryFrontend(core).request(
            "fake-echo",
            "continue",
            inputs={"primer": PRIMER},
            options={"repeats": 2.0, "temperature": 1},
        )
        await core.shutdown()
        return events

    assert isinstance(run(main())[-1], Done)


def test_model_exception_becomes_error_and_server_keeps_serving(tmp_path: Path) -> None:
    async def main() -> tuple[list, list]:  # type: ignore[type-arg]
        core = make_core(tmp_path)
        fe = MemoryFrontend(core)
        failed = await fe.request("fake-failing", "render")
        after = await fe.request("fake-echo", "continue", inputs={"primer": PRIMER})
        await core.shutdown()
        return failed, after

    failed, after = run(main())
    error = error_of(failed)
    assert error.code is ErrorCode.MODEL_ERROR and "weights are corrupt" in error.message
    assert isinstance(after[-1], Done)


class Transposer(EchoContinuer):
    """Echoes the primer an octave up: runs off the keyboard for high primers."""

    model_id = "fake-transposer"

    def run(self, job):  # type: ignore[no-untyped-def]
        for output in super().run(job):
            yield NotesOutput([replace(n, pitch=n.pitch + 12) for n in output.notes])


def test_unplayable_model_notes_are_a_model_error_not_sent_on(tmp_path: Path) -> None:
    async def main() -> tuple[list, list]:  # type: ignore[type-arg]
        core = make_core(tmp_path, Transposer())
        fe = MemoryFrontend(core)
        high = await fe.request("fake-transposer", "continue", inputs={"primer": [120, 90, 0, 1]})
        low = await fe.request("fake-transposer", "continue", inputs={"primer": PRIMER})
        await core.shutdown()
        return high, low

    high, low = run(main())
    error = error_of(high)
    assert error.code is ErrorCode.MODEL_ERROR and "pitch 132" in error.message
    assert not any(isinstance(e, OutputEvent) for e in high)
    assert isinstance(low[-1], Done)


def test_cancel_stops_the_running_work(tmp_path: Path) -> None:
    slow = SlowModel()

    async def main() -> tuple[list, int, int]:  # type: ignore[type-arg]
        core = make_core(tmp_path, slow)
        fe = MemoryFrontend(core)
        request_id, queue = fe.submit("fake-slow", "render", options={"seconds": 30})
        assert await asyncio.to_thread(slow.wait_started, 5)
        await asyncio.sleep(0.05)
        assert fe.cancel(request_id)
        events = await collect(queue, timeout=5)
        steps_after_cancel = await asyncio.to_thread(slow.settled_steps)
        await asyncio.sleep(0.3)
        await core.shutdown()
        return events, steps_after_cancel, slow.steps

    events, steps_then, steps_later = run(main())
    assert error_of(events).code is ErrorCode.CANCELLED
    assert steps_then == steps_later  # the loop stopped, not just the reply


def test_timeout_stops_the_job(tmp_path: Path) -> None:
    slow = SlowModel()

    async def main() -> list:  # type: ignore[type-arg]
        core = make_core(tmp_path, slow, job_timeout=0.2)
        frontend = MemoryFrontend(core)
        # Warm the worker first: a worker still spawning when the timeout fires (a loaded
        # machine) would start the job late, and this test would time the spawn, not the stop.
        # (The timeout counts the spawn too, so the first quick jobs may time out.)
        for _ in range(20):
            warm = await frontend.request("fake-slow", "render", options={"seconds": 0})
            if isinstance(warm[-1], Done):
                break
        assert isinstance(warm[-1], Done), warm[-1]
        events = await frontend.request("fake-slow", "render", options={"seconds": 30})
        steps = await asyncio.to_thread(slow.settled_steps)
        await asyncio.sleep(0.3)
        assert slow.steps == steps  # the loop stopped, not just the reply
        await core.shutdown()
        return events

    error = error_of(run(main()))
    assert error.code is ErrorCode.TIMEOUT and "0.2 s" in error.message


def test_queue_limits_answer_busy(tmp_path: Path) -> None:
    slow = SlowModel()

    async def main() -> tuple[list, list]:  # type: ignore[type-arg]
        core = make_core(tmp_path, slow, EchoContinuer(), model_queue_limit=2, total_queue_limit=3)
        fe = MemoryFrontend(core)
        queues = [fe.submit("fake-slow", "render", options={"seconds": 30})[1] for _ in range(3)]
        third = await collect(queues[2], timeout=2)
        fe.submit("fake-echo", "continue", inputs={"primer": PRIMER})
        _, overall = fe.submit("fake-echo", "continue", inputs={"primer": PRIMER})
        overall_events = await collect(overall, timeout=2)
        core.engine.cancel_all()
        await core.shutdown()
        return third, overall_events

    per_model, overall = run(main())
    assert error_of(per_model).code is ErrorCode.BUSY and "fake-slow" in per_model[-1].message
    assert error_of(overall).code is ErrorCode.BUSY and "server" in overall[-1].message


def test_duplicate_running_request_id_is_refused(tmp_path: Path) -> None:
    async def main() -> list:  # type: ignore[type-arg]
        core = make_core(tmp_path, SlowModel())
        fe = MemoryFrontend(core)
        fe.submit("fake-slow", "render", request_id="same", options={"seconds": 30})
        _, queue = fe.submit("fake-slow", "render", request_id="same")
        events = await collect(queue, timeout=2)
        core.engine.cancel_all()
        await core.shutdown()
        return events

    assert error_of(run(main())).code is ErrorCode.DUPLICATE_ID


def test_audio_is_written_atomically_inside_the_work_folder(tmp_path: Path) -> None:
    async def main() -> list:  # type: ignore[type-arg]
        core = make_core(tmp_path, SineRenderer())
        core.transport.set_tempo(90)
        events = await MemoryFrontend(core).request(
            "fake-sine", "render", request_id="../../escape", inputs={"notes": [69, 100, 0, 4]}
        )
        await core.shutdown()
        return events

    output = next(e for e in run(main()) if isinstance(e, OutputEvent)).output
    path = output.path
    assert path.resolve().is_relative_to(tmp_path.resolve())
    audio, rate = soundfile.read(path)
    assert rate == 8000 and len(audio) == round(4 * 60 / 90 * 8000)  # one bar at 90 BPM
    assert not list(path.parent.glob(".*partial*"))  # no temporary files left behind


def test_ids_that_sanitise_alike_get_their_own_output_files(tmp_path: Path) -> None:
    async def main() -> list[Path]:
        core = make_core(tmp_path, SineRenderer())
        fe = MemoryFrontend(core)
        paths = []
        for request_id in ("take 1", "take_1", "take/1"):
            events = await fe.request(
                "fake-sine", "render", request_id=request_id, inputs={"notes": [69, 100, 0, 1]}
            )
            paths.append(next(e for e in events if isinstance(e, OutputEvent)).output.path)
        await core.shutdown()
        return paths

    paths = run(main())
    assert len(set(paths)) == 3 and all(p.is_file() for p in paths)


def test_input_paths_are_confined(tmp_path: Path) -> None:
    outside = tmp_path / "outside.mid"
    outside.write_bytes(b"MThd")
    work = tmp_path / "work"

    async def main() -> dict[str, Error]:
        # Beyond loopback only the work folder and input_roots are readable (no socket is
        # opened here; on loopback absolute paths are allowed, see tests/abuse).
        core = make_core(work, EchoContinuer(), bind="0.0.0.0")
        (work / "inside.txt").write_text("not midi")
        fe = MemoryFrontend(core)
        cases = {
            "absolute": await fe.request("fake-echo", "continue", inputs={"primer": str(outside)}),
            "traversal": await fe.request(
                "fake-echo", "continue", inputs={"primer": "../outside.mid"}
            ),
            "missing": await fe.request("fake-echo", "continue", inputs={"primer": "nothing.mid"}),
            "not midi": await fe.request("fake-echo", "continue", inputs={"primer": "inside.txt"}),
        }
        await core.shutdown()
        return {name: error_of(events) for name, events in cases.items()}

    errors = run(main())
    assert errors["absolute"].code is ErrorCode.PATH_NOT_ALLOWED
    assert errors["traversal"].code is ErrorCode.PATH_NOT_ALLOWED
    assert errors["missing"].code is ErrorCode.BAD_INPUT
    assert "MIDI" in errors["not midi"].message


class NoticeModel(EchoContinuer):
    """Reports two different messages in quick succession (a notice must not be throttled)."""

    model_id = "fake-notice"

    def run(self, job):  # type: ignore[no-untyped-def]
        job.progress(0.1, "working")
        job.progress(0.1, "working")
        job.progress(0.1, "primer truncated to 191 events")
        yield from super().run(job)


def test_progress_notices_are_not_throttled_but_repeats_are(tmp_path: Path) -> None:
    async def main() -> list:  # type: ignore[type-arg]
        core = make_core(tmp_path, NoticeModel())
        events = await MemoryFrontend(core).request(
            "fake-notice", "continue", inputs={"primer": PRIMER}
        )
        await core.shutdown()
        return events

    messages = [e.message for e in run(main()) if isinstance(e, Progress)]
    assert "primer truncated to 191 events" in messages
    assert messages.count("working") == 1


class ManualExecutor(Executor):
    """Runs nothing: the test plays the worker, emitting events and freeing the slot."""

    name = "manual"

    def __init__(self, work: WorkFolder) -> None:
        super().__init__(work, EngineSettings())
        self.started: list[Assignment] = []

    def start(self, assignment: Assignment) -> None:
        self.started.append(assignment)

    def cancel(self, assignment: Assignment, reason: str) -> None:
        pass

    def kill(self, assignment: Assignment) -> bool:
        assignment.finished()
        return True

    async def shutdown(self, grace: float) -> None:
        pass


def test_an_answered_request_id_can_be_sent_again_at_once(tmp_path: Path) -> None:
    """A Max patch reuses its request ids: the next request may follow the `done` at once,
    before the worker has reported that its slot is free."""

    async def main() -> tuple[list[Event], list[Event], int]:
        core = make_core(tmp_path, EchoContinuer())
        executor = ManualExecutor(core.work)
        engine = Engine(executor)
        request = Request("same", "fake-echo", "continue", inputs={"primer": PRIMER})
        first: list[Event] = []
        second: list[Event] = []
        engine.enqueue(*core.build_job(request), "client", first.append)
        job = executor.started[0].job
        executor.started[0].emit(Done(job.request_id, 0.1, 0, {}))
        engine.enqueue(*core.build_job(request), "client", second.append)  # slot still busy
        running_before = len(executor.started)
        executor.started[0].finished()  # now the worker reports back
        executor.started[1].emit(Done(job.request_id, 0.1, 0, {}))
        executor.started[1].finished()
        await core.shutdown()
        return first, second, running_before

    first, second, running_before = run(main())
    assert [e.type for e in first] == ["accepted", "done"]
    assert [e.type for e in second] == ["accepted", "done"]
    assert running_before == 1  # the second waited for the model's one slot


def test_an_unanswered_request_id_is_still_refused(tmp_path: Path) -> None:
    async def main() -> list[Event]:
        core = make_core(tmp_path, EchoContinuer())
        engine = Engine(ManualExecutor(core.work))
        request = Request("same", "fake-echo", "continue", inputs={"primer": PRIMER})
        engine.enqueue(*core.build_job(request), "client", lambda e: None)
        try:
            engine.enqueue(*core.build_job(request), "client", lambda e: None)
        except DawhostError as exc:
            return [Error.from_exception("same", exc)]
        finally:
            await core.shutdown()
        return []

    assert error_of(run(main())).code is ErrorCode.DUPLICATE_ID
