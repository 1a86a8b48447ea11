"""Scheduler lateness: 1,000 events at 2 ms spacing while a torch job keeps a core busy,
against plain asyncio `call_at` under the same load in the same run. Prints one JSON object.

    .venv/bin/python -m benchmarks.bench_scheduler
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time

from benchmarks.load import TorchLoad
from benchmarks.stats import summary_ms
from host.scheduler import Scheduler
from host.transport import Transport

EVENTS = 1000
SPACING = 0.002


def asyncio_lateness() -> list[float]:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        late: list[float] = []
        done = loop.create_future()
        start = loop.time() + 0.05
        for i in range(EVENTS):
            due = start + i * SPACING

            def fire(due: float = due) -> None:
                late.append(loop.time() - due)
                if len(late) == EVENTS:
                    done.set_result(None)

            loop.call_at(due, fire)
        await done
        return late

    return asyncio.run(main())


def scheduler_lateness() -> list[float]:
    scheduler = Scheduler(Transport())
    late: list[float] = []
    done = threading.Event()
    start = time.monotonic() + 0.05
    for i in range(EVENTS):
        due = start + i * SPACING

        def fire(due: float = due) -> None:
            late.append(time.monotonic() - due)
            if len(late) == EVENTS:
                done.set()

        scheduler.at_time(due, fire)
    done.wait(30)
    scheduler.stop()
    return late


def main() -> int:
    default_interval = sys.getswitchinterval()
    with TorchLoad() as load:
        time.sleep(0.2)
        baseline = summary_ms(asyncio_lateness())  # default switch interval, as users run it
        ours = summary_ms(scheduler_lateness())
        iterations = load.iterations
    report = {
        "benchmark": "scheduler_lateness",
        "events": EVENTS,
        "spacing_ms": SPACING * 1000,
        "load": f"torch 64x64 matmul loop on another thread ({iterations} iterations)",
        "baseline_asyncio_call_at": baseline,
        "dawhost_scheduler": ours,
        "p99_ratio_baseline_over_ours": round(baseline["p99_ms"] / max(ours["p99_ms"], 1e-6), 1),
        "goal_p99_ms": 0.5,
        "meets_goal": ours["p99_ms"] <= 0.5,
        "switch_interval_s": {"default": default_interval, "scheduler": sys.getswitchinterval()},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
