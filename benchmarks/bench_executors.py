"""What moving models out of the server costs: request -> `accepted` and request -> first note
of a real music-transformer continuation on each executor (thread = the old in-process path,
the baseline; process = the default; ray = a local Ray instance), warm workers, same requests,
same run. Prints one JSON object.

    .venv/bin/python -m benchmarks.bench_executors [--requests 20] [--no-ray]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.ray_local import runtime_for
from benchmarks.stats import summary_ms
from host.config import ServerConfig
from host.core import Core
from host.executor import EngineSettings
from host.memory import MemoryFrontend
from host.outputs import NotesOutput
from host.requests import Accepted, Done, Error, OutputEvent
from host.serve import build_core

PRIMER = [60, 100, 0, 0.5, 64, 90, 0.5, 0.5, 67, 90, 1, 0.5, 72, 100, 1.5, 0.5]


def make(work: Path, executor: str) -> Core:
    config = ServerConfig(work_dir=work, engine=EngineSettings(executor=executor))  # type: ignore[arg-type]
    config.disabled_plugins = {"midi", "osc", "websocket"}
    core, _ = build_core(config)
    return core


async def one_request(fe: MemoryFrontend, request_id: str) -> tuple[float, float]:
    """Seconds from submit to `accepted`, and to the first output carrying notes."""
    marks: dict[str, float] = {}
    ended = asyncio.Event()

    def on_event(event: Any) -> None:
        now = time.perf_counter()
        if isinstance(event, Accepted):
            marks["accepted"] = now
        elif isinstance(event, OutputEvent) and isinstance(event.output, NotesOutput):
            if event.output.notes:
                marks.setdefault("first_note", now)
        elif isinstance(event, (Done, Error)):
            if isinstance(event, Error):
                marks["error"] = now
                print(f"request {request_id} failed: {event.message}", file=sys.stderr)
            ended.set()

    start = time.perf_counter()
    fe.submit(
        "music-transformer",
        "continue",
        request_id=request_id,
        on_event=on_event,
        inputs={"primer": PRIMER},
        options={"bars": 1},
        seed=11,
    )
    await asyncio.wait_for(ended.wait(), 120)
    if "error" in marks:
        raise RuntimeError(f"{request_id} failed")
    return marks["accepted"] - start, marks["first_note"] - start


async def measure(work: Path, executor: str, requests: int) -> dict[str, Any]:
    core = make(work / executor, executor)
    fe = MemoryFrontend(core)
    try:
        warm = time.perf_counter()
        await core.engine.warm_up([core.models["music-transformer"]])
        warm_up = time.perf_counter() - warm
        await one_request(fe, "warm")  # first sampling pays one-off costs on every executor
        accepted, first = [], []
        for index in range(requests):
            a, f = await one_request(fe, f"r{index}")
            accepted.append(a)
            first.append(f)
    finally:
        await core.shutdown()
    return {
        "worker_start_and_load_s": round(warm_up, 3),
        "request_to_accepted": summary_ms(accepted),
        "request_to_first_note": summary_ms(first),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray executor")
    args = parser.parse_args(argv)
    executors = ["thread", "process"] + ([] if args.no_ray else ["ray"])
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as work:
        for executor in executors:
            with runtime_for(executor):
                results[executor] = asyncio.run(measure(Path(work), executor, args.requests))

    def added(executor: str) -> float | None:
        if executor not in results:
            return None
        ours = results[executor]["request_to_first_note"]["p50_ms"]
        return round(ours - results["thread"]["request_to_first_note"]["p50_ms"], 3)

    report = {
        "benchmark": "executor_overhead",
        "model": "music-transformer, 1 bar from a 4-note primer, warm worker",
        "requests": args.requests,
        "baseline": "thread (the old in-process engine)",
        **results,
        "first_note_added_ms_p50": {e: added(e) for e in executors if e != "thread"},
        "goal_added_ms": {"process": 5.0, "ray": 30.0},
        "meets_goal": {
            e: (added(e) or 0.0) <= {"process": 5.0, "ray": 30.0}[e]
            for e in executors
            if e != "thread"
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
