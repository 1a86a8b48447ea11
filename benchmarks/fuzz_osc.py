"""A long OSC fuzz run against a dawhost server in its own process: seeded random, mutated and
hostile datagrams (arrays nested up to 2,000 deep, 60 kB addresses, huge blobs, nested
bundles, thousands of arguments) while a pinger measures /dawhost/ping round trips, first on a
quiet server (the same-run baseline) and then during the fuzz. Prints one JSON object:
handler crashes, ping latency p50/p99/max quiet vs fuzzed, lost pings, server RSS growth.

    .venv/bin/python -m benchmarks.fuzz_osc --count 100000 [--rate 5000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import random
import socket
import struct
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.stats import summary_ms  # noqa: E402
from protocols.osc_wire import decode_packet, encode_bundle, encode_message  # noqa: E402

SERVER = "127.0.0.1"
PING_INTERVAL = 0.005  # seconds between pings
QUIET_PINGS = 1000
TAG_CHARS = "ifsbhdtTFNIcrm[],xyz"

SEEDS = [
    encode_message("/dawhost/ping", [1, 2.5, "x"]),
    encode_message("/dawhost/fake-echo/continue", [7, "primer", 60, 100, 0, 1, "repeats", 2]),
    encode_message("/dawhost/fake-sine/render", ["r", "notes", 69, 100, 0.0, 1.0, "bars", 1]),
    encode_message("/dawhost/transport/tempo", [140.0]),
    encode_message("/dawhost/transport/signature", [3, 4]),
    encode_message("/dawhost/fake-echo/options/repeats", [3]),
    encode_message("/dawhost/cancel", [7]),
    encode_message("/dawhost/models", []),
    encode_message("/dawhost/reply", [9]),
    encode_bundle(
        [encode_message("/dawhost/transport/play"), encode_message("/dawhost/ping", [3])]
    ),
]


def _osc_string(text: str) -> bytes:
    raw = text.encode("utf-8", "surrogatepass")
    return raw + b"\x00" * (4 - len(raw) % 4)


def nested_arrays(depth: int, address: str = "/dawhost/ping") -> bytes:
    return _osc_string(address) + _osc_string("," + "[" * depth + "i" + "]" * depth) + b"\0\0\0\1"


def nested_bundles(depth: int) -> bytes:
    """A ping inside `depth` bundles (each element: int32 size, then the inner packet)."""
    inner = encode_message("/dawhost/ping", [depth])
    for _ in range(depth):
        inner = b"#bundle\x00" + struct.pack(">Q", 1) + struct.pack(">i", len(inner)) + inner
    return inner


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        if choice < 0.3 and out:
            out[rng.randrange(len(out))] = rng.randrange(256)
        elif choice < 0.45:
            out = out[: rng.randrange(len(out) + 1)]
        elif choice < 0.6:
            position = rng.randrange(len(out) + 1)
            out[position:position] = rng.randbytes(rng.choice([1, 3, 4, 8]))
        elif choice < 0.8 and b"," in out:
            comma = out.index(b",")
            end = out.find(b"\x00", comma)
            for i in range(comma + 1, end if end > 0 else len(out)):
                out[i] = ord(rng.choice(TAG_CHARS))
        else:
            out += rng.randbytes(rng.randrange(1, 64))
    return bytes(out)


def hostile(rng: random.Random) -> bytes:
    """One of the attacks from issue #20, at a random size."""
    kind = rng.randrange(6)
    if kind == 0:
        return nested_arrays(rng.choice([17, 100, 1000, 2000]))
    if kind == 1:
        size = rng.choice([1100, 10_000, 60_000])
        return _osc_string("/" + "x" * size) + _osc_string(",i") + b"\0\0\0\1"
    if kind == 2:
        return nested_bundles(rng.randrange(1, 40))
    if kind == 3:
        count = rng.randrange(1000, 15_000)
        return _osc_string("/dawhost/ping") + _osc_string("," + "i" * count) + b"\0\0\0\1" * count
    if kind == 4:
        size = rng.randrange(1000, 60_000)
        blob = struct.pack(">i", size) + rng.randbytes(size) + b"\0" * (-size % 4)
        return _osc_string("/dawhost/ping") + _osc_string(",b") + blob
    return (
        _osc_string("/dawhost/" + "é" * rng.randrange(1, 400))
        + _osc_string(",s")
        + _osc_string("x")
    )


def fuzz_datagram(rng: random.Random) -> bytes:
    """The mix a run sends: mostly mutated valid messages, some random bytes, some attacks."""
    roll = rng.random()
    if roll < 0.15:
        return rng.randbytes(rng.randrange(1, 300))
    if roll < 0.30:
        return hostile(rng)
    return mutate(rng, rng.choice(SEEDS)) or b"\0\0\0\0"


# --- the server (child process) --------------------------------------------------------------
class _CrashCounter(logging.Handler):
    """Counts what crash_check calls a crash: ERROR records from the front-ends, or a callback
    the core had to catch."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.crashes: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if (
            record.name.startswith("protocols")
            or message.startswith("event sink for")
            or (message in ("event listener failed", "scheduled callback failed"))
        ):
            self.crashes.append(message[:300])


def _serve(pipe: Connection, work: str) -> None:
    import asyncio

    from protocols.osc import OscFrontend
    from tests.fakes import EchoContinuer, SineRenderer, make_core

    counter = _CrashCounter()
    logging.getLogger().addHandler(counter)
    logging.getLogger().setLevel(logging.WARNING)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop_errors: list[str] = []
        loop.set_exception_handler(lambda _, context: loop_errors.append(str(context)[:300]))
        core = make_core(
            Path(work),
            EchoContinuer(),
            SineRenderer(),
            osc_port=0,
            reply_port=9,
            model_queue_limit=8,
            total_queue_limit=16,
            sections={"oscquery": {"enabled": False}},
        )
        core.scheduler.start()
        osc = OscFrontend()
        await osc.start(core)
        pipe.send({"port": osc.port})
        await loop.run_in_executor(None, pipe.recv)
        core.engine.cancel_all()
        await osc.stop()
        await core.shutdown()
        pipe.send(
            {
                "crashes": counter.crashes[:20],
                "crash_count": len(counter.crashes),
                "loop_errors": loop_errors[:20],
                "datagrams_received": osc.datagrams_received,
            }
        )

    asyncio.run(main())


def _rss_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


# --- the fuzzer (child process) --------------------------------------------------------------
def _fuzz(port: int, count: int, rate: float, seed: int, done: Connection) -> None:
    rng = random.Random(seed)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((SERVER, 0))
    sock.setblocking(False)
    start = time.monotonic()
    sent = 0
    for i in range(count):
        due = start + i / rate
        while (now := time.monotonic()) < due:
            time.sleep(min(due - now, 0.001))
        data = fuzz_datagram(rng)
        try:
            sock.sendto(data[:65_507], (SERVER, port))
            sent += 1
        except OSError:
            pass  # a full send buffer: the datagram is lost, as UDP may
        try:
            while True:
                sock.recv(65_536)  # drain the error replies
        except OSError:
            pass
    done.send({"sent": sent, "seconds": round(time.monotonic() - start, 2)})


# --- the pinger (this process) ---------------------------------------------------------------
def ping_while(port: int, keep_going: Any, limit: int | None = None) -> tuple[list[float], int]:
    """Ping every PING_INTERVAL until `keep_going()` is false (or `limit` pings); round trips
    in seconds and how many pongs never came (within 1 s)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((SERVER, 0))
    sock.settimeout(1.0)
    trips: list[float] = []
    lost = 0
    sequence = 0
    while keep_going() and (limit is None or sequence < limit):
        sequence += 1
        sent = time.perf_counter()
        sock.sendto(encode_message("/dawhost/ping", [sequence]), (SERVER, port))
        try:
            while True:
                data = sock.recv(65_536)
                messages = decode_packet(data)
                if messages and messages[0].args == (sequence,):
                    trips.append(time.perf_counter() - sent)
                    break
        except TimeoutError:
            lost += 1
        time.sleep(max(0.0, PING_INTERVAL - (time.perf_counter() - sent)))
    sock.close()
    return trips, lost


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="datagrams to send")
    parser.add_argument("--rate", type=float, default=5000.0, help="datagrams per second")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as work:
        pipe, child = context.Pipe()
        server = context.Process(target=_serve, args=(child, work), daemon=True)
        server.start()
        if not pipe.poll(60):
            raise RuntimeError("fuzz server did not start")
        port = pipe.recv()["port"]
        ping_while(port, lambda: True, limit=100)  # warm up
        rss_before = _rss_kib(server.pid or 0)
        quiet, quiet_lost = ping_while(port, lambda: True, limit=QUIET_PINGS)

        fuzz_pipe, fuzz_child = context.Pipe()
        fuzzer = context.Process(
            target=_fuzz, args=(port, args.count, args.rate, args.seed, fuzz_child), daemon=True
        )
        fuzzer.start()
        fuzzed, fuzzed_lost = ping_while(port, lambda: fuzzer.is_alive() and not fuzz_pipe.poll())
        fuzz_report = fuzz_pipe.recv() if fuzz_pipe.poll(5) else {"sent": None, "failed": True}
        fuzzer.join(10)
        after, after_lost = ping_while(port, lambda: True, limit=50)  # still answering?
        rss_after = _rss_kib(server.pid or 0)

        pipe.send("stop")
        server_report = pipe.recv() if pipe.poll(30) else {"crash_count": None}
        server.join(10)
        if server.is_alive():
            server.kill()

    quiet_ms, fuzzed_ms = summary_ms(quiet), summary_ms(fuzzed) if fuzzed else {}
    report = {
        "benchmark": "fuzz_osc",
        "seed": args.seed,
        "datagrams": {**fuzz_report, "rate_per_s": args.rate},
        "server_received": server_report.get("datagrams_received"),
        "crashes": server_report.get("crash_count"),
        "crash_messages": server_report.get("crashes", []),
        "loop_errors": server_report.get("loop_errors", []),
        "ping_quiet": {**quiet_ms, "lost": quiet_lost},
        "ping_during_fuzz": {**fuzzed_ms, "lost": fuzzed_lost},
        "p99_ratio_fuzz_vs_quiet": round(fuzzed_ms["p99_ms"] / quiet_ms["p99_ms"], 2)
        if fuzzed
        else None,
        "server_alive_after": len(after) > 0 and after_lost == 0,
        "rss_kib": {
            "before": rss_before.get("VmRSS"),
            "after": rss_after.get("VmRSS"),
            "growth": rss_after.get("VmRSS", 0) - rss_before.get("VmRSS", 0),
            "peak": rss_after.get("VmHWM"),
        },
        "goal": {"crashes": 0, "ping_p99_ms_max": 5.0},
        "goal_met": server_report.get("crash_count") == 0
        and bool(fuzzed_ms)
        and fuzzed_ms["p99_ms"] <= 5.0,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
