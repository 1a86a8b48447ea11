"""Render a phrase the way a user does and measure every note: is any note dropped, how loud
is the render?

    python -m plugins.melnet.phrase_levels --notes "60 100 0 1 67 100 1 1" \
        --instruments flute piano --seeds 0 1 2 3 4 [--no-normalize] [--json]

Each (instrument, seed) is one `dawhost run melnet ... --out x.wav` in a subprocess, the
command a user types, so the whole path (core, options, normalisation, WAV file) is measured.
For every note: the broadband level over its span (dBFS RMS), its level in its own pitch band
(note_levels.note_levels_db), and that band level against FluidSynth's render of the same
notes at the same velocities (phrase median removed; renders are normalised), with the
render's true peak; `step_error_db` is how much further under the note before it each note
is than in FluidSynth (issue #26's "G4 below the C4 before it"). A note more than
note_levels.DROPPED_DB under is counted as dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile

from plugins.melnet.audio import SAMPLE_RATE
from plugins.melnet.conditioning import INSTRUMENTS
from plugins.melnet.loudness import db, true_peak
from plugins.melnet.note_levels import DROPPED_DB, note_level_errors, note_levels_db


def parse_notes(text: str, tempo: float) -> np.ndarray:
    """'pitch velocity start duration ...' in beats -> rows (pitch, velocity, start_s, end_s)."""
    values = [float(v) for v in text.split()]
    if not values or len(values) % 4:
        raise SystemExit(f"--notes needs groups of 4 numbers (pitch vel start dur), got {text!r}")
    beat = 60.0 / tempo
    rows = [(p, v, s * beat, (s + d) * beat) for p, v, s, d in np.reshape(values, (-1, 4))]
    return np.asarray(rows, np.float32)


def span_levels_dbfs(audio: np.ndarray, rows: np.ndarray) -> list[float]:
    """Broadband RMS level (dBFS) of each note's span."""
    levels = []
    for _, _, start, end in rows:
        span = audio[
            int(start * SAMPLE_RATE) : max(int(start * SAMPLE_RATE) + 1, int(end * SAMPLE_RATE))
        ]
        rms = float(np.sqrt(np.mean(np.square(span, dtype=np.float64)))) if span.size else 0.0
        levels.append(round(db(rms), 2))
    return levels


def dawhost_render(args: argparse.Namespace, instrument: str, seed: int, out: Path) -> np.ndarray:
    """One render through the `dawhost run` command line; the WAV's samples."""
    command = [sys.executable, "-m", "host.cli", "run", "melnet", "--notes", args.notes]
    command += ["--instrument", instrument, "--seed", str(seed), "--bars", str(args.bars)]
    command += ["--tempo", f"{args.tempo:g}", "--temperature", f"{args.temperature:g}"]
    command += ["--vocoder", args.vocoder, "--out", str(out)]
    command.append("--normalize" if args.normalize else "--no-normalize")
    env = {**os.environ, "DAWHOST_PROGRESS": "off"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"dawhost run failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    audio, rate = soundfile.read(out, dtype="float32")
    assert rate == SAMPLE_RATE, rate
    return audio


def measure(args: argparse.Namespace) -> dict[str, object]:
    from plugins.melnet.build_data import fluidsynth_render

    rows = parse_notes(args.notes, args.tempo)
    seconds = args.bars * 4 * 60.0 / args.tempo  # the CLI's transport is 4/4
    report: dict[str, object] = {
        "notes": args.notes,
        "tempo": args.tempo,
        "bars": args.bars,
        "normalize": args.normalize,
        "vocoder": args.vocoder,
        "dropped_below_db": DROPPED_DB,
    }
    with tempfile.TemporaryDirectory(prefix="melnet-levels-") as folder:
        for instrument in args.instruments:
            reference = fluidsynth_render(rows, instrument, seconds)
            renders = []
            for seed in args.seeds:
                audio = dawhost_render(args, instrument, seed, Path(folder) / "render.wav")
                errors = note_level_errors(reference, audio, rows)
                renders.append(
                    {
                        "seed": seed,
                        "true_peak_dbfs": round(db(true_peak(audio)), 2),
                        "span_dbfs": span_levels_dbfs(audio, rows),
                        "band_db": [round(float(v), 2) for v in note_levels_db(audio, rows)],
                        "error_vs_fluidsynth_db": [round(float(e), 2) for e in errors],
                        # how much further under (or over) the note before it than in FluidSynth
                        "step_error_db": [round(float(e), 2) for e in np.diff(errors)],
                        "dropped": int((errors < -DROPPED_DB).sum()),
                    }
                )
            report[instrument] = {
                "fluidsynth": {
                    "true_peak_dbfs": round(db(true_peak(reference)), 2),
                    "span_dbfs": span_levels_dbfs(reference, rows),
                    "band_db": [round(float(v), 2) for v in note_levels_db(reference, rows)],
                },
                "renders": renders,
            }
    return report


def table(report: dict[str, object]) -> str:
    lines = [
        f"notes {report['notes']!r} at {report['tempo']:g} BPM, normalize {report['normalize']}"
    ]
    for instrument in INSTRUMENTS:
        entry = report.get(instrument)
        if not isinstance(entry, dict):
            continue
        reference = entry["fluidsynth"]
        lines.append(
            f"{instrument:8s} fluidsynth peak {reference['true_peak_dbfs']:7.2f} dBFS  "
            f"span dBFS {reference['span_dbfs']}"
        )
        for render in entry["renders"]:
            lines.append(
                f"  seed {render['seed']:<3d} peak {render['true_peak_dbfs']:7.2f} dBFS  span dBFS "
                f"{render['span_dbfs']}  error vs fluidsynth dB {render['error_vs_fluidsynth_db']}"
                f"  vs the note before {render['step_error_db']}  dropped {render['dropped']}"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m plugins.melnet.phrase_levels", description=__doc__
    )
    parser.add_argument(
        "--notes", default="60 100 0 1 67 100 1 1", help="pitch vel start dur ... (beats)"
    )
    parser.add_argument("--instruments", nargs="+", default=list(INSTRUMENTS), choices=INSTRUMENTS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--tempo", type=float, default=120.0)
    parser.add_argument("--bars", type=int, default=1)
    parser.add_argument("--temperature", type=float, default=0.6)
    parser.add_argument("--vocoder", default="neural", choices=("neural", "griffin-lim"))
    parser.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    report = measure(args)
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
