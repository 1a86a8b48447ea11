"""The thread executor (the benchmarks' in-process baseline) runs jobs like the others."""

from __future__ import annotations

import asyncio
from pathlib import Path

from host.executor import EngineSettings
from host.memory import MemoryFrontend, collect
from host.requests import Done, Error, OutputEvent
from tests.fakes import EchoContinuer, SlowModel, make_core


def test_jobs_stream_cancel_and_report_errors_in_threads(tmp_path: Path) -> None:
    async def main() -> tuple[list[object], list[object], list[object]]:
        core = make_core(
            tmp_path, EchoContinuer(), SlowModel(), engine=EngineSettings(executor="thread")
        )
        frontend = MemoryFrontend(core)
        try:
            echoed = await frontend.request(
                "fake-echo", "continue", inputs={"primer": [60, 100, 0, 1]}, options={"repeats": 2}
            )
            slow_id, slow = frontend.submit("fake-slow", "render", options={"seconds": 30.0})
            await asyncio.wait_for(slow.get(), 10)  # accepted
            assert frontend.cancel(slow_id)
            cancelled = await collect(slow, 10)
            bad = await frontend.request("fake-echo", "continue", inputs={"primer": "nope.mid"})
            return echoed, cancelled, bad
        finally:
            await core.shutdown()

    echoed, cancelled, bad = asyncio.run(main())
    notes = [e for e in echoed if isinstance(e, OutputEvent)]
    assert isinstance(echoed[-1], Done) and len(notes) >= 1
    assert any(isinstance(e, Error) and e.code.value == "cancelled" for e in cancelled)
    assert isinstance(bad[-1], Error) and bad[-1].field == "primer"
