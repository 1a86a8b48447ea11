"""WebSocket front-end: JSON ping round trip p50/p99 with 50 concurrent clients, idle and
while a model job runs, against a bare `websockets` echo server on the same server loop.
Prints one JSON object.

    .venv/bin/python -m benchmarks.bench_websocket
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script (make bench): make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from benchmarks.net_server import ServerProcess  # noqa: E402
from benchmarks.stats import summary_ms  # noqa: E402

CLIENTS = 50
ROUNDS = 60  # per client and server: 3,000 round trips each
INTERVAL = 0.05  # each client pings every 50 ms (a controller streaming at 20 Hz): 1,000/s


async def ping(connection: ClientConnection, i: int) -> float:
    message = json.dumps({"type": "ping", "i": i})
    start = time.perf_counter()
    await connection.send(message)
    while json.loads(await connection.recv()).get("i") != i:
        pass  # a transport broadcast or other message in between
    return time.perf_counter() - start


async def client(ports: dict[str, int], dawhost: list[float], echo: list[float]) -> None:
    """One client alternating pings between dawhost and the bare echo (same conditions)."""
    loop = asyncio.get_running_loop()
    async with (
        connect(f"ws://127.0.0.1:{ports['ws']}/") as ours,
        connect(f"ws://127.0.0.1:{ports['ws_echo']}/") as bare,
    ):
        await asyncio.sleep(INTERVAL * random.random())  # spread the clients out
        for i in range(ROUNDS):
            due = loop.time() + INTERVAL
            dawhost.append(await ping(ours, i))
            echo.append(await ping(bare, i))
            await asyncio.sleep(max(0.0, due - loop.time()))


async def measure(ports: dict[str, int], clients: int = CLIENTS) -> tuple[list[float], list[float]]:
    dawhost: list[float] = []
    echo: list[float] = []
    await asyncio.gather(*(client(ports, dawhost, echo) for _ in range(clients)))
    return dawhost, echo


async def with_job(ports: dict[str, int]) -> tuple[list[float], list[float]]:
    async with connect(f"ws://127.0.0.1:{ports['ws']}/") as control:
        await control.send(json.dumps({"type": "generate", "id": "busy", "model": "torch-busy"}))
        reply = json.loads(await control.recv())
        if reply["type"] != "accepted":
            raise RuntimeError(f"load job not accepted: {reply}")
        await asyncio.sleep(0.3)
        result = await measure(ports)
        await control.send(json.dumps({"type": "cancel", "id": "busy"}))
        return result


def main() -> int:
    with ServerProcess() as ports:
        asyncio.run(measure(ports))  # warm up
        one_ours, one_echo = asyncio.run(measure(ports, clients=1))
        idle_ours, idle_echo = asyncio.run(measure(ports))
        load_ours, load_echo = asyncio.run(with_job(ports))
    idle, idle_base = summary_ms(idle_ours), summary_ms(idle_echo)
    loaded, loaded_base = summary_ms(load_ours), summary_ms(load_echo)
    report = {
        "benchmark": "websocket_front_end",
        "clients": CLIENTS,
        "round_trips_per_client": ROUNDS,
        "method": "50 clients connected at once from one process, each sending a JSON ping "
        "every 50 ms (1,000 messages/s in all), alternating between dawhost's "
        "WebSocket port and a bare websockets echo on the same server loop",
        "one_client_idle": {"dawhost": summary_ms(one_ours), "bare_echo": summary_ms(one_echo)},
        "ping_round_trip_idle": idle,
        "baseline_bare_echo_idle": idle_base,
        "ping_round_trip_with_model_job": loaded,
        "baseline_bare_echo_with_model_job": loaded_base,
        "p99_ratio_dawhost_over_echo_idle": round(
            idle["p99_ms"] / max(idle_base["p99_ms"], 1e-6), 2
        ),
        "p99_ratio_dawhost_over_echo_loaded": round(
            loaded["p99_ms"] / max(loaded_base["p99_ms"], 1e-6), 2
        ),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "note": "shared machine: compare ratios to the same-run baseline",
        },
        "goal_p99_ms": 5.0,
        "meets_goal": idle["p99_ms"] <= 5.0 and loaded["p99_ms"] <= 5.0,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
