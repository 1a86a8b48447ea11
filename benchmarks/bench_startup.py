"""Time from `dawhost serve` starting to its "ready" line, with every built-in plugin listed
in the manifest, against a bare Python interpreter start in the same run. One JSON object.

    .venv/bin/python -m benchmarks.bench_startup
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from benchmarks.stats import summary_ms

RUNS = 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def python_start() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def serve_start(work: str) -> float:
    args = [
        sys.executable,
        "-m",
        "host.cli",
        "serve",
        "--no-midi",
        "--work-dir",
        work,
        "--osc-port",
        str(free_port()),
        "--reply-port",
        str(free_port()),
        "--oscquery-port",
        str(free_port()),
        "--ws-port",
        str(free_port()),
    ]
    start = time.perf_counter()
    process = subprocess.Popen(
        args, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if "dawhost ready" in line:
                return time.perf_counter() - start
        raise RuntimeError("dawhost serve exited before it was ready")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        process.stderr.close()


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        baseline = summary_ms([python_start() for _ in range(RUNS)])
        ready = summary_ms([serve_start(work) for _ in range(RUNS)])
    print(
        json.dumps(
            {
                "benchmark": "serve_ready_time",
                "runs": RUNS,
                "baseline_bare_python_start": baseline,
                "dawhost_serve_ready": ready,
                "ratio_p50": round(ready["p50_ms"] / baseline["p50_ms"], 1),
                "goal_ms": 2000,
                "meets_goal": ready["max_ms"] <= 2000,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
