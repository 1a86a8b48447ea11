"""OSC note delivery on the beat: `deliver timed` against `deliver asap` in the same run.

A plain UDP socket (it ignores timetags, as Max's [udpreceive] does) asks the server for a
32-note continuation at 120 BPM, with latency_ms 0, and records when each note message
arrives (the kernel's receive timestamp, SO_TIMESTAMPNS). The grid is the client's own: it
starts the server's transport with a timetagged bundle (position 0 and play at a Unix time T0
it chose), so beat b is due at T0 + b / 2 s and the error of a note is its arrival minus that.
`asap` sends every note the moment the model makes it (the old behaviour, played on arrival by
the shipped patch); `timed` sends noteon and noteoff at their grid times. Rounds alternate
idle and with a torch job busy in a worker process (its progress replies going to another
socket). Goal: timed p99 <= 3 ms. Prints one JSON object.

    .venv/bin/python -m benchmarks.bench_osc_timed
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script (make bench): make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.net_server import ServerProcess, _serve  # noqa: E402
from benchmarks.stats import summary_ms  # noqa: E402
from protocols.osc_wire import decode_packet, encode_bundle, encode_message  # noqa: E402

TEMPO = 120.0
SECONDS_PER_BEAT = 60.0 / TEMPO
NOTES = 32
STEP_BEATS = 0.25  # one note every sixteenth: 8 beats, 4 s per round
LENGTH_BEATS = 0.2
ROUNDS = 3  # per mode and load: 3 x 32 notes x 2 messages
SERVER = "127.0.0.1"
# Primer note i has pitch 40 + i and starts at i * STEP_BEATS, so a pitch names its grid time.
PRIMER = [v for i in range(NOTES) for v in (40 + i, 100, i * STEP_BEATS, LENGTH_BEATS)]


SO_TIMESTAMPNS = 35  # Linux: SCM_TIMESTAMPNS ancillary data, a struct timespec (CLOCK_REALTIME)


def _kernel_time(ancillary: list[tuple[int, int, bytes]]) -> float:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return seconds + nanoseconds * 1e-9
    return time.time()  # no stamp (not Linux): when this thread read it


class Server(ServerProcess):
    """The network benchmarks' server, in a non-daemonic process: a daemonic one may not
    start the worker processes the models run in."""

    def __enter__(self) -> dict[str, int]:
        import multiprocessing
        import tempfile

        self._tmp = tempfile.TemporaryDirectory()
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self._tmp.name))
        self._process.start()
        if not self._pipe.poll(60):
            raise RuntimeError("benchmark server did not start")
        ports: dict[str, int] = self._pipe.recv()
        return ports


class Listener:
    """Records (arrival Unix time, message) for every datagram, on its own thread."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
        # The kernel stamps each datagram as it reaches the socket: the arrival time does not
        # depend on when this (unprivileged, shared-machine) thread gets to read it.
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind((SERVER, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[tuple[float, str, tuple]] = []
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while self._running:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(16))
            except TimeoutError:
                continue
            arrived = _kernel_time(ancillary)
            for message in decode_packet(data):
                with self._lock:
                    self.received.append((arrived, message.address, message.args))

    def take(self) -> list[tuple[float, str, tuple]]:
        with self._lock:
            taken, self.received = self.received, []
        return taken

    def wait_for(self, address: str, request_id: object, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if any(a == address and args[:1] == (request_id,) for _, a, args in self.received):
                    return
            time.sleep(0.01)
        raise TimeoutError(f"no {address} for request {request_id!r}")

    def close(self) -> None:
        self._running = False
        self._thread.join()
        self.sock.close()


def wait_for_progress(sock: socket.socket, request_id: str) -> None:
    """Block until the busy job reports progress (it is running in its worker)."""
    sock.settimeout(30)
    while True:
        message = decode_packet(sock.recv(65536))[0]
        if message.address == "/dawhost/progress" and message.args[0] == request_id:
            return


def send(sock: socket.socket, port: int, address: str, *args: object) -> None:
    sock.sendto(encode_message(address, list(args)), (SERVER, port))


def start_grid(sock: socket.socket, port: int) -> float:
    """Stop, then start the server's transport at beat 0 at a Unix time 0.3 s from now."""
    send(sock, port, "/dawhost/transport/stop")
    send(sock, port, "/dawhost/transport/tempo", TEMPO)
    t0 = time.time() + 0.3
    bundle = encode_bundle(
        [
            encode_message("/dawhost/transport/position", [0.0]),
            encode_message("/dawhost/transport/play", []),
        ],
        t0,
    )
    sock.sendto(bundle, (SERVER, port))
    time.sleep(0.35)
    return t0


def one_round(
    sock: socket.socket, listener: Listener, port: int, mode: str, request_id: int
) -> list[float]:
    """Errors (arrival - grid time, seconds) of every note message of one continuation."""
    t0 = start_grid(sock, port)
    start_beat = 4.0  # bar 2: 1.7 s after the request, plenty for the echo model
    listener.take()
    send(
        sock,
        port,
        "/dawhost/fake-echo/continue",
        request_id,
        "primer",
        *PRIMER,
        "start",
        start_beat,
        "deliver",
        mode,
        "latency_ms",
        0,
    )
    listener.wait_for("/dawhost/done", request_id)
    if mode == "timed":  # the last note-off is due at beat 4 + 7.75 + 0.2
        time.sleep(
            max(0.0, t0 + (start_beat + NOTES * STEP_BEATS) * SECONDS_PER_BEAT - time.time())
        )
        time.sleep(0.2)
    errors = []
    for arrived, address, args in listener.take():
        if not args or args[0] != request_id:
            continue
        if address in ("/dawhost/note", "/dawhost/noteon"):
            index = args[1] - 40
            beat = start_beat + index * STEP_BEATS
        elif address == "/dawhost/noteoff":
            beat = start_beat + (args[1] - 40) * STEP_BEATS + LENGTH_BEATS
        else:
            continue
        errors.append(arrived - (t0 + beat * SECONDS_PER_BEAT))
    expected = NOTES * (2 if mode == "timed" else 1)
    if len(errors) != expected:
        raise RuntimeError(f"{mode}: {len(errors)} note messages arrived, expected {expected}")
    return errors


def main() -> None:
    results: dict[str, dict[str, list[float]]] = {
        "idle": {"asap": [], "timed": []},
        "busy": {"asap": [], "timed": []},
    }
    with Server() as ports:
        port = ports["osc"]
        listener = Listener()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((SERVER, 0))
        # The busy job's progress goes back to its own socket, not into the listener's queue
        # (it would delay the listener's reading, not dawhost's sending).
        busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        busy.bind((SERVER, 0))
        send(busy, port, "/dawhost/reply", busy.getsockname()[1])
        time.sleep(0.05)
        # Replies to `sock` (and its timed notes) go to the listener.
        send(sock, port, "/dawhost/reply", listener.port)
        time.sleep(0.1)
        request_id = 0
        for round_index in range(ROUNDS):
            for load in ("idle", "busy"):
                busy_id = f"busy-{round_index}"
                if load == "busy":
                    send(busy, port, "/dawhost/torch-busy/render", busy_id)
                    wait_for_progress(busy, busy_id)
                for mode in ("asap", "timed"):
                    request_id += 1
                    results[load][mode] += one_round(sock, listener, port, mode, request_id)
                if load == "busy":
                    send(busy, port, "/dawhost/cancel", busy_id)
        sock.close()
        busy.close()
        listener.close()

    report: dict[str, object] = {
        "benchmark": "osc_timed",
        "tempo_bpm": TEMPO,
        "notes_per_round": NOTES,
        "rounds": ROUNDS,
        "latency_ms": 0,
        "client": "plain UDP socket (ignores timetags); error = arrival - grid time",
        "goal": "timed p99 of |error| <= 3 ms",
    }
    for load, modes in results.items():
        for mode, errors in modes.items():
            report[f"{mode}_{load}_abs_error"] = summary_ms([abs(e) for e in errors])
            report[f"{mode}_{load}_early_ms_mean"] = round(
                -1000 * sum(errors) / len(errors), 3
            )  # asap: how early (ms) a note arrives on average; timed: ~0
    timed_p99 = max(report[f"timed_{load}_abs_error"]["p99_ms"] for load in results)  # type: ignore[index]
    asap_p99 = min(report[f"asap_{load}_abs_error"]["p99_ms"] for load in results)  # type: ignore[index]
    report["timed_p99_ms_worst"] = timed_p99
    report["goal_met"] = timed_p99 <= 3.0
    report["asap_over_timed_p99"] = round(asap_p99 / max(timed_p99, 1e-3), 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
