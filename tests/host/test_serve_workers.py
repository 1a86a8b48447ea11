"""A real `dawhost serve` with misbehaving models: it keeps answering `ping` after a worker
segfaults, and SIGTERM ends it within 3 s while models hang, leaving no process behind."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

from tests.clients.dawhost_server import start_server
from tests.protocols.osc_client import OscClient

FAULTS = '\n[plugins.faults]\nmodule = "tests.faults"\n'


def children_of(pid: int) -> list[int]:
    result = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
    )
    return [int(line) for line in result.stdout.split()]


def running(pid: int) -> bool:
    """Alive and not a zombie, as `ps` sees it."""
    result = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    return bool(result.stdout.strip()) and not result.stdout.strip().startswith("Z")


def test_crash_then_hung_models_then_sigterm(tmp_path: Path) -> None:
    server = start_server(tmp_path, project_plugins=False, extra_manifest=FAULTS)

    async def scenario() -> tuple[str, list[object]]:
        client = await OscClient(server.osc_port).open()
        try:
            client.send("/dawhost/reply", client.port)
            await client.expect("/dawhost/reply")
            client.send("/dawhost/fault-segfault/render", "crash")
            replies = await client.until_end("crash", timeout=60)
            client.send("/dawhost/ping", "still", "here")
            pong = await client.expect("/dawhost/pong", timeout=5)
            for model_id in ("fault-hangs", "fault-spins"):
                client.send(f"/dawhost/{model_id}/render", model_id)
            seen: set[str] = set()
            async with asyncio.timeout(60):
                while len(seen) < 2:
                    message = await client.expect("/dawhost/progress")
                    if message.args and message.args[0] in ("fault-hangs", "fault-spins"):
                        seen.add(str(message.args[0]))
            return str(replies[-1].args), list(pong.args)
        finally:
            client.close()

    try:
        crash, pong = asyncio.run(scenario())
        workers = children_of(server.process.pid)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=10)
        took = time.monotonic() - started
    finally:
        server.stop()
    assert "SIGSEGV" in crash and "fault-segfault" in crash
    assert pong == ["still", "here"]
    assert len(workers) >= 2  # the two hung workers (and multiprocessing's resource tracker)
    assert took < 3.0, f"SIGTERM took {took:.2f} s\n{server.log()}"
    assert server.process.returncode == 0, server.log()
    deadline = time.monotonic() + 2
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in workers if running(pid)] == []
    assert "dawhost stopped" in server.log()


def test_workers_die_with_a_killed_server(tmp_path: Path) -> None:
    server = start_server(tmp_path, project_plugins=False, extra_manifest=FAULTS)

    async def start_a_hung_job() -> None:
        client = await OscClient(server.osc_port).open()
        try:
            client.send("/dawhost/reply", client.port)
            client.send("/dawhost/fault-hangs/render", "h")
            async with asyncio.timeout(60):
                while (await client.expect("/dawhost/progress")).args[0] != "h":
                    pass
        finally:
            client.close()

    try:
        asyncio.run(start_a_hung_job())
        workers = children_of(server.process.pid)
        server.process.kill()  # SIGKILL: no shutdown code runs in the server
        server.process.wait(timeout=10)
    finally:
        server.stop()
    assert workers
    deadline = time.monotonic() + 5
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in workers if running(pid)] == []
