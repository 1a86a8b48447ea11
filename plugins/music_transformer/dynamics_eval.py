"""Does continuation velocity follow the primer's phrase? `python -m
plugins.music_transformer.dynamics_eval --json` (a few minutes on one thread).

Held-out primers (8 beats of a test piece) and their real next 8 beats are played with synthetic
dynamics (`performer.py`: level, accents, louder high notes, phrase arch, crescendo), then:

1. Velocity given the notes: each method predicts the velocities of the *real* continuation's
   notes from the primer alone, scored note by note (mean abs error, and the correlation with
   the true velocities inside the continuation). Methods: `copy_last` (what the network does:
   the primer's last velocity, binned, for every note), `primer_mean`, and `phrase`
   (dynamics.py, the plugin's default).
2. On sampled continuations (the shipped network, the plugin's sampling defaults): the
   primers are fed to the network as performed and with the velocities flattened to the
   training value (what the plugin does with dynamics=phrase), to show what velocity tokens
   it never saw in training do to its pitch choices. On the flattened primer's notes,
   `phrase` velocities are compared with the real continuation by level, spread, accent
   profile and pitch-velocity correlation; `model` (the network's own velocities) is scored
   on the performed primer's continuation, as dynamics=model plays it.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from host.reports import write_json_report
from plugins.music_transformer.continuations import (
    Case,
    histogram_overlap,
    pitch_class_histogram,
    run_stream,
)
from plugins.music_transformer.dynamics import PhraseDynamics, fit, metric_class
from plugins.music_transformer.events import TimedNote, encode, style_token, velocity_after
from plugins.music_transformer.performer import Performance, draw, perform

BEATS_PER_BAR = 4.0  # the corpus keeps no time signatures; every excerpt is read in 4
PRIMER_BEATS = 8.0
CONTINUATION_BEATS = 8.0
TRAINING_VELOCITY = 80  # every note of the corpus


def performed(
    case: Case, rng: random.Random, performance: Performance | None = None
) -> tuple[Case, Performance]:
    """The case with its primer and real continuation played with drawn (or the given)
    dynamics."""
    spb = case.seconds_per_beat
    primer_beats = [n.start / spb for n in case.primer]
    real_beats = [n.start / spb + PRIMER_BEATS for n in case.real]
    pitches = [n.pitch for n in case.primer] + [n.pitch for n in case.real]
    if performance is None:
        performance = draw(rng, PRIMER_BEATS + CONTINUATION_BEATS)
    velocities = perform(pitches, primer_beats + real_beats, BEATS_PER_BAR, performance, rng)
    count = len(case.primer)
    primer = [
        TimedNote(n.pitch, v, n.start, n.duration)
        for n, v in zip(case.primer, velocities[:count], strict=True)
    ]
    real = [
        TimedNote(n.pitch, v, n.start, n.duration)
        for n, v in zip(case.real, velocities[count:], strict=True)
    ]
    return Case(
        case.piece_id,
        case.style,
        spb,
        primer,
        real,
        case.target,
        case.primer_end,
        case.real_span,
    ), performance


def phrase_of(case: Case) -> PhraseDynamics:
    spb = case.seconds_per_beat
    return fit(
        [n.pitch for n in case.primer],
        [n.velocity for n in case.primer],
        [n.start / spb for n in case.primer],
        BEATS_PER_BAR,
        end_beat=case.primer_end / spb,
    )


def copy_last(case: Case) -> int:
    """The velocity the network's continuation carries: the primer's last one, binned."""
    return velocity_after(encode(case.primer))


def _corr(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) < 3 or np.std(a) < 1e-9 or np.std(b) < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def given_notes(case: Case) -> dict[str, dict[str, float]]:
    """Predict the real continuation's velocities from the primer, note by note."""
    spb = case.seconds_per_beat
    truth = [n.velocity for n in case.real]
    dynamics = phrase_of(case)
    predictions = {
        "copy_last": [copy_last(case)] * len(truth),
        "primer_mean": [round(float(np.mean([n.velocity for n in case.primer])))] * len(truth),
        "phrase": [dynamics.velocity(n.pitch, n.start / spb + PRIMER_BEATS) for n in case.real],
    }
    return {
        name: {
            "mae": float(np.mean(np.abs(np.subtract(values, truth)))),
            "correlation": _corr(values, truth),
        }
        for name, values in predictions.items()
    }


def profile(notes: Sequence[TimedNote], beats: Sequence[float]) -> dict[str, float]:
    """Level, spread, accent profile (mean velocity by metric class minus the mean) and the
    pitch-velocity correlation of some notes."""
    velocities = np.array([n.velocity for n in notes], dtype=float)
    classes = [metric_class(b, BEATS_PER_BAR) for b in beats]
    accents = {}
    for klass in range(4):
        chosen = velocities[[c == klass for c in classes]]
        accents[klass] = float(chosen.mean() - velocities.mean()) if len(chosen) else 0.0
    return {
        "mean": float(velocities.mean()),
        "std": float(velocities.std()),
        "accents": accents,  # type: ignore[dict-item]
        "pitch_correlation": _corr([n.pitch for n in notes], list(velocities)),
    }


def compare(made: dict[str, float], real: dict[str, float]) -> dict[str, float]:
    accents_made, accents_real = made["accents"], real["accents"]
    return {
        "level_error": abs(made["mean"] - real["mean"]),
        "std": made["std"],
        "std_real": real["std"],
        "accent_profile_error": float(
            np.mean([abs(accents_made[k] - accents_real[k]) for k in range(4)])  # type: ignore[index]
        ),
        "pitch_correlation": made["pitch_correlation"],
        "pitch_correlation_real": real["pitch_correlation"],
    }


def flattened(case: Case) -> list[TimedNote]:
    return [TimedNote(n.pitch, TRAINING_VELOCITY, n.start, n.duration) for n in case.primer]


def on_samples(model: object, case: Case, seed: int) -> dict[str, object]:
    """Continue the performed and the flattened primer; score the velocities both ways."""
    from plugins.music_transformer.continuation_report import plugin_defaults
    from plugins.music_transformer.generate import Continuation

    spb = case.seconds_per_beat
    settings = plugin_defaults(spb)
    results: dict[str, object] = {}
    real_beats = [n.start / spb + PRIMER_BEATS for n in case.real]
    real_profile = profile(case.real, real_beats)
    made: dict[str, list[TimedNote]] = {}
    for fed, primer in (("performed", case.primer), ("flattened", flattened(case))):
        prefix = [style_token(case.style)] + encode(primer)
        stream = Continuation(model, prefix, 1, settings, seed).stream()  # type: ignore[arg-type]
        made[fed] = run_stream((token for (token,) in stream), case, prefix).notes
        overlap = histogram_overlap(
            pitch_class_histogram(made[fed]), pitch_class_histogram(case.real)
        )
        results[f"pitch_class_overlap_{fed}_primer"] = overlap
    if len(made["performed"]) < 2 or len(made["flattened"]) < 2:
        return results
    # dynamics=model plays the network's velocities after the performed primer; dynamics=phrase
    # (the plugin's default) feeds it the flattened primer and sets the velocities itself.
    # Beats are absolute, on the primer's grid.
    dynamics = phrase_of(case)
    own = made["performed"]
    own_beats = [(n.start + case.primer_end) / spb for n in own]
    beats = [(n.start + case.primer_end) / spb for n in made["flattened"]]
    phrased = [
        TimedNote(n.pitch, dynamics.velocity(n.pitch, b), n.start, n.duration)
        for n, b in zip(made["flattened"], beats, strict=True)
    ]
    results["model"] = compare(profile(own, own_beats), real_profile)
    results["phrase"] = compare(profile(phrased, beats), real_profile)
    results["example"] = {
        "primer": [[n.start / spb, n.velocity] for n in case.primer],
        "real": [[b, n.velocity] for n, b in zip(case.real, real_beats, strict=True)],
        "model": [[b, n.velocity] for n, b in zip(own, own_beats, strict=True)],
        "phrase": [[b, n.velocity] for n, b in zip(phrased, beats, strict=True)],
    }
    return results


def _mean_dicts(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    return {key: round(float(np.mean([r[key] for r in rows])), 3) for key in rows[0]}


def plot(examples: Sequence[tuple[str, dict[str, list[list[float]]]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(examples), 1, figsize=(8, 2.4 * len(examples)), sharex=True)
    for axis, (title, example) in zip(np.atleast_1d(axes), examples, strict=True):
        for key, style, label in (
            ("primer", "ko", "primer (performed)"),
            ("real", "o", "real continuation (same performance)"),
            ("model", "x", "network velocities (dynamics=model)"),
            ("phrase", "s", "dynamics=phrase"),
        ):
            points = np.array(example[key]).reshape(-1, 2)
            axis.plot(points[:, 0], points[:, 1], style, label=label, markersize=4, alpha=0.8)
        axis.axvline(PRIMER_BEATS, color="grey", linewidth=0.8)
        axis.set_ylabel("velocity")
        axis.set_title(title, fontsize=9)
    axes_list = np.atleast_1d(axes)
    axes_list[-1].set_xlabel("beat (primer 0-8, continuation after)")
    axes_list[0].legend(fontsize=7, loc="lower left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)


def run_set(
    model: object, cases: Sequence[Case], sampled_count: int, seed: int
) -> tuple[dict[str, object], list[tuple[str, dict[str, list[list[float]]]]]]:
    """Both parts of the evaluation on one set of (unperformed) cases."""
    rng = random.Random(seed)
    given: dict[str, list[dict[str, float]]] = {}
    sampled: dict[str, list[dict[str, float]]] = {"model": [], "phrase": []}
    overlaps: dict[str, list[float]] = {"performed": [], "flattened": []}
    examples: list[tuple[str, dict[str, list[list[float]]]]] = []
    for index, plain in enumerate(cases):
        case, _ = performed(plain, rng)
        for name, figures in given_notes(case).items():
            given.setdefault(name, []).append(figures)
        if index >= sampled_count:
            continue
        result = on_samples(model, case, seed + index)
        for fed in overlaps:
            overlaps[fed].append(result[f"pitch_class_overlap_{fed}_primer"])  # type: ignore[arg-type]
        if "model" in result:
            sampled["model"].append(result["model"])  # type: ignore[arg-type]
            sampled["phrase"].append(result["phrase"])  # type: ignore[arg-type]
            if len(examples) < 3 and len(case.real) >= 8:
                examples.append((f"{case.piece_id} ({case.style})", result["example"]))  # type: ignore[arg-type]
    report = {
        "primers": len(cases),
        "velocity_given_notes": {name: _mean_dicts(rows) for name, rows in given.items()},
        "sampled_continuations": {
            "cases": len(sampled["model"]),
            **{name: _mean_dicts(rows) for name, rows in sampled.items() if rows},
        },
        "pitch_class_overlap_by_primer_velocity": {
            fed: round(float(np.mean(values)), 4) for fed, values in overlaps.items() if values
        },
    }
    return report, examples  # type: ignore[return-value]


def main(argv: Sequence[str] = ()) -> int:
    import torch

    from plugins.music_transformer.checkpoint import DEFAULT_CHECKPOINT, load_weights
    from plugins.music_transformer.continuation_report import outside_cases
    from plugins.music_transformer.continuations import piece_cases
    from plugins.music_transformer.corpus import DATA_DIR, load_pieces
    from plugins.music_transformer.evaluate import held_out_test
    from plugins.music_transformer.outside import DATA as OUTSIDE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--outside", type=Path, default=OUTSIDE)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--pieces", type=int, default=96)
    parser.add_argument("--sampled", type=int, default=48, help="cases also sampled")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", type=Path, help="also write the JSON here")
    parser.add_argument("--figure", type=Path, help="PNG of three examples")
    parser.add_argument("--json", action="store_true", help="(the output is always JSON)")
    args = parser.parse_args(list(argv))
    torch.set_num_threads(1)
    started = time.monotonic()
    model, info = load_weights(args.checkpoint)
    held_out = piece_cases(held_out_test(load_pieces(args.data)), PRIMER_BEATS, CONTINUATION_BEATS)[
        : args.pieces
    ]
    report: dict[str, object] = {
        "what": "velocities of 8-beat continuations of primers played with synthetic dynamics "
        "(performer.py); velocity_given_notes scores the real continuation's notes note by "
        "note, sampled_continuations the network's own notes by profile",
    }
    report["held_out"], examples = run_set(model, held_out, args.sampled, args.seed)
    if (args.outside / "pieces.pkl").is_file():
        outside = outside_cases(load_pieces(args.outside), 2)
        # spread over the kinds (they come grouped); the network hears them as style "any"
        outside = outside[:: max(1, len(outside) // args.pieces)][: args.pieces]
        outside = [replace(c, style="any") for c in outside]
        report["outside"], _ = run_set(model, outside, args.sampled, args.seed)
    report["checkpoint"] = {"path": str(args.checkpoint.name), **info}
    report["seconds"] = round(time.monotonic() - started, 1)
    print(write_json_report(report, args.report))
    if args.figure and examples:
        plot(examples, args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
