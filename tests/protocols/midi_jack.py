"""A private JACK server (dummy driver) and an independent MIDI client to drive dawhost's ports.

The server gets a unique name (`jackd -n`), selected through JACK_DEFAULT_SERVER, so tests and
benchmarks never touch anyone else's JACK server; it is stopped by its PID. `Driver` plays the
DAW: it sends clock, notes and CCs into `dawhost in` and records what comes out of
`dawhost out`, with arrival times.

On a loaded machine a JACK client can miss a cycle (an xrun, which jackd logs); the MIDI of
that cycle is lost between the clients, whatever dawhost does. `retried_after_xruns` re-runs a
test whose assertion failed in an attempt the server logged an xrun in; a failure without an
xrun fails at once.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mido
import rtmidi

from protocols.midi_input import InputPump
from protocols.midi_ports import INPUT_NAME, OUTPUT_NAME

# 1.3 ms. A longer period is no cure for a loaded machine: rtmidi stamps and delivers MIDI once
# per cycle, so with 256 frames (5.3 ms) clock ticks 10 ms apart arrived on a coarse grid and
# the tempo tests failed even on an idle machine.
PERIOD_FRAMES = 64
SAMPLE_RATE = 48_000


class JackUnavailable(Exception):
    pass


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM it when this process dies, so a killed
    test run never leaves a JACK server behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass(frozen=True)
class JackServer:
    name: str
    log: Path  # what jackd printed

    def xruns(self) -> int:
        """How many times so far a client missed its cycle (jackd logs each one)."""
        try:
            return self.log.read_text(errors="replace").count("XRun")
        except FileNotFoundError:
            return 0


@contextmanager
def jack_server(name: str | None = None) -> Iterator[JackServer]:
    """Run `jackd -d dummy -r 48000 -p 64` under a unique name for the duration."""
    if shutil.which("jackd") is None:
        raise JackUnavailable("jackd is not installed (Debian package jackd2)")
    name = name or f"dawhost-test-{os.getpid()}-{time.monotonic_ns() % 100000}"
    previous = {key: os.environ.get(key) for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    folder = Path(tempfile.mkdtemp(prefix="dawhost-jack-"))
    server = JackServer(name, folder / "jackd.log")
    with open(server.log, "w") as log:
        process = subprocess.Popen(
            ["jackd", "-n", name, "-d", "dummy", "-r", str(SAMPLE_RATE), "-p", str(PERIOD_FRAMES)],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["JACK_NO_START_SERVER"] = "1"
    try:
        ready = subprocess.run(
            ["jack_wait", "-s", name, "-w", "-t", "10"],
            capture_output=True,
            text=True,
            timeout=15,
        )
        if ready.returncode != 0 or process.poll() is not None:
            raise JackUnavailable(f"jackd did not start: {ready.stdout} {ready.stderr}")
        yield server
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        # DAWHOST_JACK_LOG=file keeps the server's messages (xruns name the client that was late).
        if os.environ.get("DAWHOST_JACK_LOG"):
            with open(os.environ["DAWHOST_JACK_LOG"], "a") as kept:
                kept.write(server.log.read_text(errors="replace"))
        shutil.rmtree(folder, ignore_errors=True)
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass(frozen=True)
class Received:
    time: float  # time.monotonic() when it reached the driver's port
    data: tuple[int, ...]

    @property
    def kind(self) -> str:
        status = self.data[0] & 0xF0
        if status == 0x90 and self.data[2] > 0:
            return "on"
        if status == 0x80 or (status == 0x90 and self.data[2] == 0):
            return "off"
        return {0xB0: "cc", 0xC0: "program"}.get(status, "other")


def _find(ports: list[str], wanted: str) -> int:
    for index, name in enumerate(ports):
        if name.endswith(":" + wanted) or name == wanted:
            return index
    raise JackUnavailable(f"no port {wanted!r} among {ports}")


class Driver:
    """The DAW side: writes into `dawhost in`, reads from `dawhost out`.

    It reads with dawhost's own `InputPump` (rtmidi's queue polled from an ordinary thread, with
    rtmidi's arrival times): a Python callback would run in JACK's real-time thread and wait
    there for the GIL, and when it waits too long the whole graph misses a cycle, which drops
    MIDI events in both directions.
    """

    def __init__(self) -> None:
        self.out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="driver-out")
        self.inp = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="driver-in")
        self.inp.ignore_types(sysex=False, timing=False, active_sense=False)
        self.received: list[Received] = []
        self.sent: list[tuple[float, tuple[int, ...]]] = []  # everything but clock ticks
        self._lock = threading.Lock()
        self._clock: threading.Thread | None = None
        self._clock_stop = threading.Event()
        self._reader = InputPump(self.inp, self._on_message, name="driver")
        self.tempo = 120.0
        self.tick_times: list[float] = []  # when each clock tick was sent

    def connect(self) -> None:
        self.out.open_port(_find(self.out.get_ports(), INPUT_NAME), "to-dawhost")
        self.inp.open_port(_find(self.inp.get_ports(), OUTPUT_NAME), "from-dawhost")
        self._reader.start()

    def close(self) -> None:
        self.stop_clock()
        self._reader.stop()
        for port in (self.out, self.inp):
            port.close_port()
            port.delete()

    def _on_message(self, message: mido.Message, arrival: float) -> None:
        with self._lock:
            self.received.append(Received(arrival, tuple(message.bytes())))

    def messages(self, kind: str | None = None) -> list[Received]:
        with self._lock:
            return [m for m in self.received if kind is None or m.kind == kind]

    def send(self, *data: int) -> None:
        self.out.send_message(list(data))
        if data and data[0] != 0xF8:
            with self._lock:
                self.sent.append((time.monotonic(), tuple(data)))

    def sent_notes(self) -> list[tuple[float, int]]:
        """(send time, pitch) of every note-on sent."""
        with self._lock:
            return [(t, d[1]) for t, d in self.sent if d[0] & 0xF0 == 0x90 and d[2] > 0]

    # --- clock -----------------------------------------------------------------------------
    def start_clock(self, tempo: float, send_start: bool = True) -> None:
        """Send 24 PPQN clock from a thread (sleep, then spin the last 2 ms), Start first."""
        self.tempo = tempo
        self._clock_stop.clear()
        if send_start:
            self.send(0xFA)
        self._clock = threading.Thread(target=self._run_clock, daemon=True, name="driver-clock")
        self._clock.start()

    def stop_clock(self, send_stop: bool = False) -> None:
        self._clock_stop.set()
        if self._clock is not None:
            # No timeout: `close` deletes the port next, and a tick sent on a deleted
            # python-rtmidi port is a SIGSEGV. The thread checks the flag every tick.
            self._clock.join()
            self._clock = None
        if send_stop:
            self.send(0xFC)

    def _run_clock(self) -> None:
        due = time.monotonic() + 0.005
        while not self._clock_stop.is_set():
            while (remaining := due - time.monotonic()) > 0.002:
                time.sleep(remaining - 0.002)
            while time.monotonic() < due:
                pass
            self.send(0xF8)
            self.tick_times.append(time.monotonic())
            due += 60.0 / (self.tempo * 24)


def wait_for(condition, timeout: float = 5.0, interval: float = 0.005) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


XRUN_ATTEMPTS = 3


def retried_after_xruns(test: Callable[..., None]) -> Callable[..., None]:
    """Re-run `test` (which takes the `jack` and `tmp_path` fixtures) when an assertion fails
    in an attempt during which the JACK server logged an xrun, up to XRUN_ATTEMPTS in all; each
    attempt gets its own work folder."""

    @functools.wraps(test)
    def attempts(*args: Any, **kwargs: Any) -> None:
        server: JackServer = kwargs["jack"]
        tmp_path: Path = kwargs["tmp_path"]
        for attempt in range(1, XRUN_ATTEMPTS + 1):
            before = server.xruns()
            kwargs["tmp_path"] = tmp_path / f"attempt-{attempt}"
            kwargs["tmp_path"].mkdir()
            try:
                return test(*args, **kwargs)
            except AssertionError as exc:
                xruns = server.xruns() - before
                if not xruns or attempt == XRUN_ATTEMPTS:
                    if xruns:
                        exc.add_note(
                            f"JACK logged {xruns} xrun lines in each of {attempt} attempts"
                        )
                    raise
                print(f"attempt {attempt}: JACK logged {xruns} xrun lines; retrying: {exc}")

    return attempts
