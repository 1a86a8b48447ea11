"""Throughput with model replicas: 20 separation requests submitted at once, served by 1 and
by 2 replicas, on worker processes and on a local Ray instance, in the same run (1 replica is
the baseline). Prints one JSON object.

    .venv/bin/python -m benchmarks.bench_replicas [--requests 20] [--seconds 4] [--no-ray]

On a 2-core machine the gain is bounded: one separation already uses two torch threads. More
replicas pay off with more cores, or on a Ray cluster with more machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_separation import synth_track
from benchmarks.ray_local import runtime_for
from host.config import ServerConfig
from host.executor import EngineSettings
from host.memory import MemoryFrontend, collect
from host.requests import Done
from host.serve import build_core


async def serve_requests(work: Path, executor: str, replicas: int, requests: int) -> float:
    """Seconds from submitting every request to the last `done`, with warm replicas."""
    engine = EngineSettings(executor=executor, replicas={"separation": replicas})  # type: ignore[arg-type]
    config = ServerConfig(
        work_dir=work, engine=engine, model_queue_limit=requests + 2, total_queue_limit=requests + 2
    )
    config.disabled_plugins = {"midi", "osc", "websocket"}
    core, _ = build_core(config)
    fe = MemoryFrontend(core)
    track = work / "track.wav"
    try:
        # Warm every replica: each gets one request while the others are busy.
        warm = [
            fe.submit("separation", "separate", inputs={"audio": str(track)})[1]
            for _ in range(replicas)
        ]
        for queue in warm:
            assert isinstance((await collect(queue, timeout=300))[-1], Done)
        start = time.perf_counter()
        queues = [
            fe.submit("separation", "separate", inputs={"audio": str(track)})[1]
            for _ in range(requests)
        ]
        for queue in queues:
            events = await collect(queue, timeout=600)
            assert isinstance(events[-1], Done), events[-1]
        return time.perf_counter() - start
    finally:
        await core.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each track")
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args(argv)
    executors = ["process"] + ([] if args.no_ray else ["ray"])
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        synth_track(work / "track.wav", args.seconds)
        for executor in executors:
            with runtime_for(executor):
                times = {
                    n: asyncio.run(serve_requests(work, executor, n, args.requests)) for n in (1, 2)
                }
            results[executor] = {
                f"replicas_{n}": {
                    "seconds": round(t, 2),
                    "requests_per_minute": round(60 * args.requests / t, 2),
                }
                for n, t in times.items()
            }
            results[executor]["speedup_2_over_1"] = round(times[1] / times[2], 2)
    report = {
        "benchmark": "replica_throughput",
        "model": f"separation, {args.seconds:g} s stereo 44.1 kHz track per request",
        "requests": args.requests,
        "cpus": os.cpu_count(),
        "baseline": "1 replica",
        **results,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
