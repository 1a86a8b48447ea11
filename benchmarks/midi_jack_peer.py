"""A sample-accurate stand-in for a DAW on JACK, run in its own process by the MIDI benchmarks.

It writes MIDI clock (and Start, and any scheduled messages) at exact frame offsets into
`dawhost in`, and timestamps everything arriving from `dawhost out` by its frame. Frames are
mapped to `time.monotonic()` seconds inside the process callback, so the benchmark can compare
them with dawhost's transport. Commands arrive on stdin as JSON lines; the recording leaves on
stdout as one JSON object when stdin says {"quit": true}.

    {"clock": 120.0, "start": true}         clock from the next cycle, Start before the first tick
    {"tick": 96, "bytes": [176, 20, 127]}   send these bytes exactly on clock tick 96
    {"quit": true}
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

import jack

from protocols.midi_ports import INPUT_NAME, OUTPUT_NAME


class Peer:
    def __init__(self) -> None:
        self.client = jack.Client("bench-peer", no_start_server=True)
        self.outport = self.client.midi_outports.register("out")
        self.inport = self.client.midi_inports.register("in")
        self.rate = self.client.samplerate
        self.lock = threading.Lock()
        self.tick_frames: float | None = None  # frames per tick (may be fractional)
        self.first_tick_frame: int | None = None
        self.next_tick = 0
        self.send_start = False
        self.scheduled: dict[int, list[list[int]]] = {}
        self.ticks: list[float] = []  # monotonic time of every tick sent
        self.sent: list[tuple[float, list[int]]] = []
        self.received: list[tuple[float, list[int]]] = []
        self.xruns = 0
        self.client.set_process_callback(self.process)
        self.client.set_xrun_callback(self.xrun)

    def xrun(self, _delay: float) -> None:
        self.xruns += 1

    def process(self, frames: int) -> None:
        now = time.monotonic()
        current = self.client.frame_time
        start = self.client.last_frame_time

        def to_time(frame: float) -> float:
            return now - (current - frame) / self.rate

        for offset, data in self.inport.incoming_midi_events():
            self.received.append((to_time(start + offset), list(bytes(data))))
        self.outport.clear_buffer()
        with self.lock:
            if self.tick_frames is None:
                return
            if self.first_tick_frame is None:
                # Mid-period, not on a period boundary (where a DAW's beats rarely fall): the
                # measured errors then include JACK's period quantization honestly.
                self.first_tick_frame = start + frames + frames // 3
            while True:
                frame = round(self.first_tick_frame + self.next_tick * self.tick_frames)
                if frame >= start + frames:
                    break
                offset = max(0, frame - start)
                if self.next_tick == 0 and self.send_start:
                    self.outport.write_midi_event(offset, b"\xfa")
                self.outport.write_midi_event(offset, b"\xf8")
                self.ticks.append(to_time(frame))
                for message in self.scheduled.pop(self.next_tick, []):
                    self.outport.write_midi_event(offset, bytes(message))
                    self.sent.append((to_time(frame), message))
                self.next_tick += 1

    def connect(self) -> None:
        self.client.activate()
        for port in self.client.get_ports(is_midi=True, is_input=True):
            if port.name.endswith(":" + INPUT_NAME):
                self.client.connect(self.outport, port)
        for port in self.client.get_ports(is_midi=True, is_output=True):
            if port.name.endswith(":" + OUTPUT_NAME):
                self.client.connect(port, self.inport)

    def command(self, command: dict[str, Any]) -> bool:
        with self.lock:
            if "clock" in command:
                self.tick_frames = self.rate * 60.0 / (float(command["clock"]) * 24)
                self.send_start = bool(command.get("start", True))
            if "tick" in command:
                self.scheduled.setdefault(int(command["tick"]), []).append(command["bytes"])
        return not command.get("quit")

    def report(self) -> dict[str, Any]:
        return {
            "ticks": self.ticks,
            "sent": self.sent,
            "received": self.received,
            "xruns": self.xruns,
            "period": self.client.blocksize,
            "rate": self.rate,
        }


def main() -> int:
    peer = Peer()
    peer.connect()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not peer.command(json.loads(line)):
            break
    peer.client.deactivate()
    print(json.dumps(peer.report()), flush=True)
    peer.client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
