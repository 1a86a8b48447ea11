"""Per-note level error of renders: is each note as loud as its velocity asks, or dropped?

`python -m plugins.melnet.note_levels --json` renders held-out phrases (generated figures of
the test split, FluidSynth references made on the fly, no built data needed) and the flute
G4-after-C4 case of issue #26 over several seeds. For each note, its level is the mel power
in its pitch band (the bins its harmonic template covers) over its first NOTE_WINDOW_S; the
FluidSynth render of the same notes says what the velocities ask for. The error of a note is
its level against the reference's, after removing the phrase's overall gain (renders are
normalised); a note more than DROPPED_DB under is dropped. Baselines in the same run: the same
sampled spectrograms through Griffin-Lim, Griffin-Lim of the reference's own spectrogram (the
vocoder ceiling) and additive sines at the notes' velocities.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from plugins.melnet.audio import HOP, N_FFT, SAMPLE_RATE, log_mel, magnitude, mel_filterbank
from plugins.melnet.conditioning import INSTRUMENTS, harmonic_template

NOTE_WINDOW_S = 0.3  # a note's level: its first 300 ms (attack and body, before long decays)
DROPPED_DB = 15.0  # a note this much quieter than asked is lost in a mix: dropped
ONSET_SKIP_FRAMES = N_FFT // 2 // HOP
MIN_FRAMES = 3  # 48 ms: the shortest window a note's level is measured over
BAND_THRESHOLD = 0.3  # mel bins where the note's harmonic template is at least this


def note_levels_db(audio: np.ndarray, notes: np.ndarray) -> np.ndarray:
    """Level (dB) of each note row (pitch, velocity, start_s, end_s) in its span and band."""
    power = np.square(magnitude(audio) @ mel_filterbank().T)
    levels = []
    for pitch, _, start, end in np.asarray(notes, dtype=np.float64).reshape(-1, 4):
        # from half an FFT window after the onset: earlier frames still hold the note before
        first = int(round(start * SAMPLE_RATE / HOP)) + ONSET_SKIP_FRAMES
        last = int(round(min(end, start + NOTE_WINDOW_S) * SAMPLE_RATE / HOP))
        # a grace note (the corpus has 10-40 ms ones) still sounds through its release: at
        # least MIN_FRAMES frames, not one frame after it ended
        frames = power[first : max(first + MIN_FRAMES, last)]
        band = harmonic_template(int(pitch)) >= BAND_THRESHOLD
        energy = float(frames[:, band].sum(axis=1).mean()) if frames.size else 0.0
        levels.append(10.0 * np.log10(energy + 1e-12))
    return np.asarray(levels)


def note_level_errors(reference: np.ndarray, audio: np.ndarray, notes: np.ndarray) -> np.ndarray:
    """Each note's level against the reference's (dB), the median (overall gain) removed."""
    difference = note_levels_db(audio, notes) - note_levels_db(reference, notes)
    return difference - float(np.median(difference))


def summarise(errors: Sequence[float]) -> dict[str, float | int]:
    values = np.abs(np.asarray(errors, dtype=np.float64))
    return {
        "notes": int(values.size),
        "mean_abs_error_db": round(float(values.mean()), 2) if values.size else 0.0,
        "max_abs_error_db": round(float(values.max()), 2) if values.size else 0.0,
        "dropped_notes": int((np.asarray(errors) < -DROPPED_DB).sum()),
    }


def held_out_phrases(count: int, seconds: float) -> list[tuple[np.ndarray, str, float]]:
    """(rows, instrument, seconds) of generated test-split figures, instruments in turn."""
    from plugins.melnet.build_data import clip_notes
    from plugins.melnet.corpus import generated_piece

    phrases: list[tuple[np.ndarray, str, float]] = []
    rng = random.Random(26)
    index = 0
    while len(phrases) < count:
        piece = generated_piece(index)
        index += 1
        if piece.split != "test":
            continue
        instrument = INSTRUMENTS[len(phrases) % len(INSTRUMENTS)]
        rows, length = clip_notes(piece, instrument, rng)
        length = min(length, seconds)
        rows = rows[rows[:, 2] < length - NOTE_WINDOW_S].copy()
        rows[:, 3] = np.minimum(rows[:, 3], length)
        if len(rows) >= 2:
            phrases.append((rows, instrument, length))
    return phrases


# Issue #26's flute G4 after a C4, at 120 BPM (one beat = 0.5 s), as two phrases: C4 then G4
# at the same velocity, and the phrase the plugin's tests send (C4 100, E4 90, G4 80 for 2 beats).
FLUTE_CASES: dict[str, np.ndarray] = {
    "c4_g4": np.array([[60, 100, 0.0, 0.5], [67, 100, 0.5, 1.0]], np.float32),
    "c4_e4_g4": np.array([[60, 100, 0.0, 0.5], [64, 90, 0.5, 1.0], [67, 80, 1.0, 2.0]], np.float32),
}


def sine_baseline(rows: np.ndarray, samples: int) -> np.ndarray:
    from plugins.melnet.evaluate import sine_render

    return sine_render(rows, samples)


def main(argv: Sequence[str] | None = None) -> int:
    from plugins.melnet.build_data import SOUNDFONT, fluidsynth_render
    from plugins.melnet.render import render, vocode
    from plugins.melnet.train import DEFAULT_CHECKPOINT, load_checkpoint
    from plugins.melnet.vocoder import DEFAULT_VOCODER, load_vocoder

    parser = argparse.ArgumentParser(prog="python -m plugins.melnet.note_levels")
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--vocoder", default=str(DEFAULT_VOCODER))
    parser.add_argument("--phrases", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--seeds", type=int, default=5, help="seeds of the flute case")
    parser.add_argument("--temperature", type=float, default=0.6)
    parser.add_argument(
        "--soundfont",
        type=Path,
        default=SOUNDFONT,
        help="the references' soundfont (default: the training data's; another one asks "
        "whether levels hold for sounds the model never heard)",
    )
    parser.add_argument(
        "--candidate",
        help="also render with this checkpoint (e.g. a retrained one): candidate_neural, "
        "same phrases, references and seeds in the same run",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.perf_counter()
    model, _ = load_checkpoint(args.checkpoint)
    candidate = load_checkpoint(args.candidate)[0] if args.candidate else None
    neural = load_vocoder(args.vocoder)

    def systems(
        rows: np.ndarray, instrument: str, samples: int, seed: int
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Per-note errors of each system, and the reference's per-note levels."""
        reference = fluidsynth_render(rows, instrument, samples / SAMPLE_RATE, args.soundfont)
        spec, audio = render(
            model,
            rows,
            samples,
            INSTRUMENTS.index(instrument),
            args.temperature,
            seed,
            vocoder=neural,
        )
        renders = {
            "melnet_neural": audio,
            "melnet_griffin_lim": vocode(spec, samples, None, 32, seed),
            "baseline_griffin_lim_of_reference": vocode(log_mel(reference), samples, None, 32),
            "baseline_sine_synth": sine_baseline(rows, samples),
        }
        if candidate is not None:
            renders["candidate_neural"] = render(
                candidate,
                rows,
                samples,
                INSTRUMENTS.index(instrument),
                args.temperature,
                seed,
                vocoder=neural,
            )[1]
        errors = {name: note_level_errors(reference, a, rows) for name, a in renders.items()}
        return errors, note_levels_db(reference, rows)

    per_system: dict[str, list[float]] = {}
    for index, (rows, instrument, seconds) in enumerate(
        held_out_phrases(args.phrases, args.seconds)
    ):
        phrase_errors, _ = systems(rows, instrument, round(seconds * SAMPLE_RATE), index)
        for name, errors in phrase_errors.items():
            per_system.setdefault(name, []).extend(float(e) for e in errors)
    report: dict[str, object] = {
        "held_out_phrases": {
            "phrases": args.phrases,
            "seconds_each": args.seconds,
            **{name: summarise(errors) for name, errors in per_system.items()},
        }
    }
    cases: dict[str, object] = {"seeds": args.seeds}
    for case, rows in FLUTE_CASES.items():
        c4, g4 = (int(np.nonzero(rows[:, 0] == pitch)[0][0]) for pitch in (60, 67))
        flute: dict[str, object] = {"notes": rows.tolist()}
        for seed in range(args.seeds):
            samples = round(float(rows[:, 3].max()) * SAMPLE_RATE) + SAMPLE_RATE // 2
            case_errors, reference = systems(rows, "flute", samples, seed)
            gaps = flute.setdefault("reference_g4_minus_c4_db", [])
            gaps.append(round(float(reference[g4] - reference[c4]), 2))  # type: ignore[attr-defined]
            for name, errors in case_errors.items():
                # G4's error minus C4's: how much further under C4 the G4 is than in FluidSynth
                each = flute.setdefault(f"{name}_g4_error_vs_c4_db", [])
                each.append(round(float(errors[g4] - errors[c4]), 2))  # type: ignore[attr-defined]
        cases[case] = flute
    report["flute_g4_after_c4"] = cases
    report["settings"] = {
        "checkpoint": args.checkpoint,
        "candidate": args.candidate,
        "vocoder": args.vocoder,
        "temperature": args.temperature,
        "soundfont": str(args.soundfont),
        "note_window_s": NOTE_WINDOW_S,
        "dropped_below_db": DROPPED_DB,
        "normalize": True,
        "seconds_taken": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
