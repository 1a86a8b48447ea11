"""The executors' shared behaviour, one suite run on worker processes and on Ray actors: faults
in model code reach the client as the right error, other models keep working, cancel and
timeout always stop the work, events stream as they happen, shutdown leaves no worker behind.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from host.core import Core
from host.errors import ErrorCode
from host.executor import EngineSettings
from host.memory import MemoryFrontend, collect
from host.model import Model
from host.requests import Done, Error, Event, OutputEvent, Progress
from tests.fakes import EchoContinuer, SlowModel, make_core
from tests.faults import (
    ExitsModel,
    GatedStreamer,
    HangsModel,
    LeaksModel,
    NanAudioModel,
    RaisesModel,
    SegfaultModel,
    SpinsModel,
)

PRIMER = [60, 100, 0, 1, 64, 90, 1, 1]
GRACE = 0.5


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    ray = pytest.importorskip("ray", reason="the Ray executor needs `pip install dawhost[ray]`")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a loopback test instance, no token
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(params=["process", "ray"])
def executor(request: pytest.FixtureRequest) -> str:
    if request.param == "ray":
        request.getfixturevalue("ray_instance")
    return str(request.param)


@asynccontextmanager
async def serving(
    tmp_path: Path, executor: str, *models: Model, **settings: Any
) -> AsyncIterator[tuple[Core, MemoryFrontend]]:
    engine = EngineSettings(
        executor=executor,  # type: ignore[arg-type]
        grace_period=GRACE,
        memory_limit_mb=settings.pop("memory_limit_mb", 0.0),
    )
    core = make_core(tmp_path, *models, engine=engine, **settings)
    try:
        yield core, MemoryFrontend(core)
    finally:
        await core.shutdown(grace=GRACE)


async def first_progress(queue: asyncio.Queue[Event], timeout: float = 60.0) -> list[Event]:
    """Events up to the first progress report that is not the loading notice: the job runs."""
    events: list[Event] = []
    async with asyncio.timeout(timeout):
        while True:
            event = await queue.get()
            events.append(event)
            if isinstance(event, Progress) and not event.message.startswith("loading"):
                return events
            if isinstance(event, (Done, Error)):
                raise AssertionError(f"the job ended before it ran: {events}")


async def echo_works(fe: MemoryFrontend) -> bool:
    events = await fe.request("fake-echo", "continue", timeout=60, inputs={"primer": PRIMER})
    return isinstance(events[-1], Done)


def error_of(events: list[Event]) -> Error:
    assert isinstance(events[-1], Error), events
    return events[-1]


CRASHES = {
    # model, what the process executor says, what the Ray executor says
    "raises": (RaisesModel, "ValueError: the weights do not fit", "ValueError: the weights"),
    "segfault": (SegfaultModel, "killed by signal SIGSEGV", "Ray actor died"),
    "exit": (ExitsModel, "exited with code 3", "Ray actor died"),
    "nan": (NanAudioModel, "10 non-finite samples", "10 non-finite samples"),
    "leak": (LeaksModel, "memory limit of 400 MB", "Ray actor died"),
}


@pytest.mark.parametrize("fault", sorted(CRASHES))
def test_a_failing_model_is_a_model_error_and_nothing_else_suffers(
    tmp_path: Path, executor: str, fault: str
) -> None:
    model_class, process_says, ray_says = CRASHES[fault]

    async def main() -> tuple[list[Event], list[Event], bool]:
        async with serving(
            tmp_path, executor, model_class(), EchoContinuer(), memory_limit_mb=400
        ) as (_, fe):
            first = await fe.request(model_class.model_id, "render", timeout=60)
            again = await fe.request(model_class.model_id, "render", timeout=60)
            return first, again, await echo_works(fe)

    first, again, echo_fine = asyncio.run(main())
    for events in (first, again):  # the second request met a fresh worker, failing the same way
        error = error_of(events)
        assert error.code is ErrorCode.MODEL_ERROR
        assert model_class.model_id in error.message
        assert (process_says if executor == "process" else ray_says) in error.message
    assert echo_fine


def test_a_model_that_ignores_cancel_is_killed_and_gives_its_slot_back(
    tmp_path: Path, executor: str
) -> None:
    async def main() -> tuple[list[Event], list[Event], bool]:
        async with serving(tmp_path, executor, SpinsModel(), EchoContinuer()) as (_, fe):
            request_id, queue = fe.submit("fault-spins", "render")
            await first_progress(queue)
            assert fe.cancel(request_id)
            cancelled = await collect(queue, timeout=2)
            # One replica: the next job can start only once the spinning worker is gone.
            second_id, second = fe.submit("fault-spins", "render")
            started = await first_progress(second, timeout=GRACE + 30)
            fe.cancel(second_id)
            return cancelled, started, await echo_works(fe)

    cancelled, started, echo_fine = asyncio.run(main())
    assert error_of(cancelled).code is ErrorCode.CANCELLED
    assert any(isinstance(e, Progress) and e.message == "spinning" for e in started)
    assert echo_fine


def test_cancel_is_cooperative_first(tmp_path: Path, executor: str) -> None:
    """A model that calls `job.progress()` stops at once and keeps its worker (no kill)."""
    slow = SlowModel()

    async def main() -> tuple[list[Event], int, int, int]:
        async with serving(tmp_path, executor, slow) as (core, fe):
            request_id, queue = fe.submit("fake-slow", "render", options={"seconds": 30})
            await first_progress(queue)
            assert fe.cancel(request_id)
            events = await collect(queue, timeout=2)
            steps = await asyncio.to_thread(slow.settled_steps)  # it saw the cancel
            await asyncio.sleep(GRACE + 0.3)  # past the grace period: a kill would show now
            after = await fe.request("fake-slow", "render", options={"seconds": 0.05})
            assert isinstance(after[-1], Done), after
            return events, steps, slow.steps, core.engine.executor.kills

    events, steps_then, steps_later, kills = asyncio.run(main())
    assert error_of(events).code is ErrorCode.CANCELLED
    assert steps_later - steps_then <= 15  # the 30 s loop stopped; the 0.05 s job adds ~10
    assert kills == 0


def test_a_hung_model_times_out_and_two_hung_models_block_no_one(
    tmp_path: Path, executor: str
) -> None:
    async def main() -> tuple[list[Event], bool]:
        models = (HangsModel(), SpinsModel(), EchoContinuer())
        async with serving(tmp_path, executor, *models, job_timeout=20) as (core, fe):
            await core.engine.warm_up(core.models.values())
            core.engine.job_timeout = 20
            _, hung = fe.submit("fault-hangs", "render")
            _, spinning = fe.submit("fault-spins", "render")
            await first_progress(hung)
            await first_progress(spinning)
            echo_fine = await echo_works(fe)  # both hung models are running right now
            core.engine.job_timeout = 1.0
            _, late = fe.submit("fault-hangs", "render", request_id="late")
            return await collect(late, timeout=30), echo_fine

    timed_out, echo_fine = asyncio.run(main())
    assert echo_fine
    error = error_of(timed_out)
    assert error.code is ErrorCode.TIMEOUT and "1 s" in error.message


def test_events_stream_while_the_job_runs(tmp_path: Path, executor: str) -> None:
    gate = tmp_path / "gate"

    async def main() -> list[Event]:
        async with serving(tmp_path, executor, GatedStreamer(gate)) as (_, fe):
            _, queue = fe.submit("fake-gated", "continue")
            events: list[Event] = []
            async with asyncio.timeout(60):
                while not any(isinstance(e, OutputEvent) for e in events):
                    events.append(await queue.get())
            gate.touch()  # only now may the model go on
            return events + await collect(queue, timeout=30)

    events = asyncio.run(main())
    outputs = [e for e in events if isinstance(e, OutputEvent)]
    assert [n.pitch for o in outputs for n in o.output.notes] == [60, 62]
    assert isinstance(events[-1], Done) and events[-1].outputs == 2


def test_shutdown_stops_hung_workers(tmp_path: Path, executor: str) -> None:
    async def main() -> list[Event]:
        async with serving(tmp_path, executor, HangsModel()) as (core, fe):
            _, queue = fe.submit("fault-hangs", "render")
            events = await first_progress(queue)
            started = asyncio.get_running_loop().time()
            await core.shutdown(grace=GRACE)
            took = asyncio.get_running_loop().time() - started
            assert took < GRACE + 2.0, f"shutdown took {took:.1f} s"
            assert not core.engine.active_jobs()
            return events + await collect(queue, timeout=1)

    assert error_of(asyncio.run(main())).code is ErrorCode.CANCELLED


def test_worker_processes_are_gone_after_shutdown(tmp_path: Path) -> None:
    async def main() -> list[int]:
        async with serving(tmp_path, "process", HangsModel(), SpinsModel()) as (core, fe):
            for model_id in ("fault-hangs", "fault-spins"):
                await first_progress(fe.submit(model_id, "render")[1])
            executor = core.engine.executor
            pids = [w.pid for w in executor.workers()]  # type: ignore[attr-defined]
        return [pid for pid in pids if pid is not None]

    pids = asyncio.run(main())
    assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # reaped, not a zombie


def test_the_server_process_never_imports_torch(tmp_path: Path) -> None:
    """A real music-transformer request through the default executor, in a fresh interpreter
    (this test process may have imported torch for other tests)."""
    script = f"""
import asyncio, sys
from host.config import ServerConfig
from host.memory import MemoryFrontend
from host.serve import build_core

async def main():
    core, _ = build_core(ServerConfig(work_dir={str(tmp_path)!r}, disabled_plugins={{"midi"}}))
    events = await MemoryFrontend(core).request(
        "music-transformer", "continue", timeout=120,
        inputs={{"primer": [60, 100, 0, 1, 64, 100, 1, 1]}}, options={{"bars": 1}}, seed=3)
    await core.shutdown()
    print(type(events[-1]).__name__, "torch" in sys.modules)

asyncio.run(main())
"""
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Done", "False"], result.stdout + result.stderr
