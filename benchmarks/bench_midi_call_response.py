"""Call-and-response through the MIDI front-end, against a sample-accurate DAW stand-in.

A separate JACK client process sends 120 BPM clock (with Start), a one-bar phrase, then the
trigger CC at a different place in the next bar each trial. dawhost continues the phrase
(model `fake-echo` by default, or `--model music-transformer`) and must start its answer on the
next bar line at least half a beat after the trigger, on the DAW's own grid (its clock ticks).
Figures per trial and summarised: trigger -> first note (ms), the first note's error against
that bar line (ms; plus the model's own rest before its first note, if any), and whether it
landed there (within 2 JACK periods). Baseline measured in
the same run: playing the notes the moment the model hands them over, as a front-end without a
transport would; its first note's distance from the nearest beat shows what the wait buys.
Prints one JSON object.

    .venv/bin/python -m benchmarks.bench_midi_call_response [--trials 5] [--model fake-echo]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.midi_bench_common import PeerProcess
from host.core import Core
from protocols.midi import MidiFrontend
from tests.fakes import EchoContinuer, make_core
from tests.protocols.midi_jack import PERIOD_FRAMES, SAMPLE_RATE, jack_server

TEMPO = 120.0
TICKS_PER_BEAT = 24
PHASES = [0.25, 1.0, 1.75, 2.5, 3.25, 0.6, 2.0, 3.0]  # where in the bar the trigger comes
LEAD_BEATS = 0.5
PHRASE = [60, 64, 67, 72]


def build_core(work: Path, model: str) -> Core:
    sections = {"midi": {"lead_beats": LEAD_BEATS, "model": model, "primer_bars": 2}}
    if model == "fake-echo":
        return make_core(work, EchoContinuer(), midi_api="jack", sections=sections)
    from host.config import ServerConfig
    from host.serve import build_core as build_server_core

    config = ServerConfig.load(work_dir=work, midi_api="jack")
    config.sections = sections
    core, _ = build_server_core(config)
    if model not in core.models:
        raise SystemExit(f"model {model!r} is not available: {', '.join(core.models)}")
    core.models[model].ensure_loaded()  # load time is not what this benchmark measures
    return core


def grid_time(ticks: list[float], beat: float) -> float:
    """Time of `beat` on the DAW's clock: between its ticks, linearly."""
    position = beat * TICKS_PER_BEAT
    index = min(int(position), len(ticks) - 2)
    return ticks[index] + (position - index) * (ticks[index + 1] - ticks[index])


def schedule(peer: PeerProcess, trials: int) -> list[float]:
    """Queue the phrase and trigger of every trial; returns each trigger's beat."""
    triggers = []
    for trial in range(trials):
        bar = 1 + 3 * trial  # bar 0 lets the tempo settle
        for i, pitch in enumerate(PHRASE):
            tick = (bar * 4 + i) * TICKS_PER_BEAT
            peer.send(tick=tick, bytes=[0x90, pitch, 100])
            peer.send(tick=tick + TICKS_PER_BEAT // 2, bytes=[0x80, pitch, 0])
        beat = (bar + 1) * 4 + PHASES[trial % len(PHASES)]
        peer.send(tick=round(beat * TICKS_PER_BEAT), bytes=[0xB0, 20, 127])
        peer.send(tick=round(beat * TICKS_PER_BEAT) + 1, bytes=[0xB0, 20, 0])
        triggers.append(beat)
    return triggers


async def run(trials: int, model: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as work:
        core = build_core(Path(work), model)
        frontend = MidiFrontend()
        await frontend.start(core)
        if frontend.error:
            raise SystemExit(frontend.error)
        core.scheduler.start()
        peer = PeerProcess()
        try:
            triggers = schedule(peer, trials)
            peer.send(clock=TEMPO, start=True)
            await asyncio.sleep((3 * trials + 2) * 4 * 60.0 / TEMPO + 0.5)
            report = peer.finish()
            responses = list(frontend.finished)
        finally:
            await frontend.stop()
            await core.shutdown()
    ticks = report["ticks"]
    ons = [(t, d) for t, d in report["received"] if d[0] & 0xF0 == 0x90 and d[2] > 0]
    trigger_times = [t for t, d in report["sent"] if d[:3] == [0xB0, 20, 127]]
    rows = []
    for index, beat in enumerate(triggers):
        bar_beat = math.ceil((beat + LEAD_BEATS) / 4 - 1e-9) * 4
        trigger_time = trigger_times[index]
        first = next((t for t, _ in ons if t > trigger_time), None)
        response = responses[index] if index < len(responses) else None
        ready = response.first_output_at if response else None
        # The model's first note may start a little after its beat 0 (a rest first): the
        # target is that note's place on the DAW's grid, from the bar line.
        offset = 0.0
        if response is not None and response.first_note_beat is not None:
            offset = response.first_note_beat - (response.anchor_beat or bar_beat)
        target = grid_time(ticks, bar_beat + offset)
        row: dict[str, Any] = {
            "trigger_beat": beat,
            "intended_bar_beat": bar_beat,
            "anchored_bar_beat": response.anchor_beat if response else None,
            "first_note_offset_beats": round(offset, 4),
            "trigger_to_first_note_ms": None if first is None else (first - trigger_time) * 1e3,
            "bar_line_error_ms": None if first is None else (first - target) * 1e3,
            "model_first_output_ms": None if ready is None else (ready - trigger_time) * 1e3,
        }
        if ready is not None:
            beat_length = 60.0 / TEMPO
            phase = ((ready - ticks[0]) / beat_length) % 1.0
            row["play_when_ready_off_beat_ms"] = min(phase, 1 - phase) * beat_length * 1e3
        row["on_the_bar_line"] = (
            row["bar_line_error_ms"] is not None
            and abs(row["bar_line_error_ms"]) <= 2 * PERIOD_FRAMES / SAMPLE_RATE * 1e3
        )
        rows.append(row)

    def stat(key: str) -> dict[str, float] | None:
        values = [abs(r[key]) for r in rows if r.get(key) is not None]
        if not values:
            return None
        return {
            "median": round(float(np.median(values)), 3),
            "max": round(float(np.max(values)), 3),
        }

    return {
        "benchmark": "midi_call_and_response",
        "model": model,
        "tempo_bpm": TEMPO,
        "lead_beats": LEAD_BEATS,
        "jack_period_ms": round(PERIOD_FRAMES / SAMPLE_RATE * 1e3, 3),
        "peer_xruns": report["xruns"],
        "trials": rows,
        "landed_on_bar_line": sum(r["on_the_bar_line"] for r in rows),
        "of": len(rows),
        "abs_bar_line_error_ms": stat("bar_line_error_ms"),
        "trigger_to_first_note_ms": stat("trigger_to_first_note_ms"),
        "baseline_model_first_output_ms": stat("model_first_output_ms"),
        "baseline_play_when_ready_off_beat_ms": stat("play_when_ready_off_beat_ms"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--model", default="fake-echo")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with jack_server():
        report = asyncio.run(run(args.trials, args.model))
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
