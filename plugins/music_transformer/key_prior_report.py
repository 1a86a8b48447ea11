"""Does the key prior (`key_strength`) make one sampled continuation beat the primer-histogram
baseline? `python -m plugins.music_transformer.key_prior_report --report FILE` (one thread).

Every held-out test primer (8 beats, the piece's style token) and every outside primer (style
"any"), `--seeds` single continuations each at the plugin's defaults with `key_strength`
varied, seed 1000 * repeat + the primer's index, so the settings are paired primer by primer.
Per setting: pitch-class overlap with the real next 8 beats, the primer-histogram baseline on
the same primers, the paired difference (mean, standard error over primers), the share of
continuations that beat the baseline, % well-formed, and note density against the real
continuation (a prior that only thinned the output would show here). `plain:S` is the prior
without the per-step renormalisation (`key_keeps_density=False`), the textbook product of
experts, which also makes every note rarer.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from host.reports import write_json_report
from plugins.music_transformer.continuation_report import (
    CONTINUATION_BEATS,
    defaults_for,
    network_sampler,
    outside_cases,
    plugin_defaults,
)
from plugins.music_transformer.continuations import Case, piece_cases, score, summarise
from plugins.music_transformer.generate import SamplingSettings


def setting_name(spec: str) -> str:
    plain = spec.startswith("plain:")
    strength = float(spec.split(":")[-1])
    return f"{'plain' if plain else 'key'}_{strength:g}"


def settings_for(spec: str) -> object:
    """A per-case settings function: the plugin's defaults with this key prior."""
    plain = spec.startswith("plain:")
    strength = float(spec.split(":")[-1])

    def settings(case: Case) -> SamplingSettings:
        return replace(defaults_for(case), key_strength=strength, key_keeps_density=not plain)

    return settings


def per_primer(rows: Sequence[dict[str, float]], primers: int, key: str) -> np.ndarray:
    """(primers,) the mean of `key` over each primer's seeds (rows go seed by seed)."""
    return np.array([r[key] for r in rows]).reshape(-1, primers).mean(axis=0)


def paired(rows: Sequence[dict[str, float]], primers: int) -> dict[str, float]:
    """The setting's figures (every row is one sampled continuation) plus its paired
    comparison with the primer-histogram baseline; the standard error is over primers."""
    out = summarise(rows)
    diff = per_primer(rows, primers, "pitch_class_overlap") - per_primer(
        rows, primers, "primer_baseline_overlap"
    )
    out["minus_baseline_mean"] = round(float(diff.mean()), 4)
    out["minus_baseline_se"] = round(float(diff.std(ddof=1) / np.sqrt(len(diff))), 4)
    single = [r["pitch_class_overlap"] > r["primer_baseline_overlap"] for r in rows]
    out["beats_baseline_share"] = round(float(np.mean(single)), 4)
    notes = sum(r["notes"] for r in rows)
    out["notes_total_over_real"] = round(notes / max(1.0, sum(r["real_notes"] for r in rows)), 3)
    return out


def run_part(
    model: object,
    cases: Sequence[Case],
    specs: Sequence[str],
    style: str | None,
    label: str,
    seeds: int = 1,
) -> dict[str, object]:
    """Every setting on every case, `seeds` continuations each (seed 1000 * repeat + index,
    the same for every setting)."""
    part: dict[str, object] = {"primers": len(cases), "continuations_per_primer": seeds}
    per_case: dict[str, list[dict[str, float]]] = {}
    for spec in specs:
        name = setting_name(spec)
        sampler = network_sampler(model, settings_for(spec), style)  # type: ignore[arg-type]
        started = time.monotonic()
        rows = []
        for repeat in range(seeds):
            for index, case in enumerate(cases):
                made = sampler(case, 1000 * repeat + index)
                figures = score(case, made)
                figures["notes"] = float(len(made.notes))
                figures["real_notes"] = float(len(case.real))
                rows.append(figures)
        per_case[name] = rows
        seconds = round(time.monotonic() - started, 1)
        part[name] = paired(rows, len(cases)) | {"seconds": seconds}
        print(f"{label} {name}: {json.dumps(part[name])}", file=sys.stderr, flush=True)
    first = next(iter(per_case.values()))
    part["primer_histogram_baseline"] = round(
        float(np.mean([r["primer_baseline_overlap"] for r in first])), 4
    )
    part["primer_sample_baseline"] = round(
        float(np.mean([r["primer_sample_baseline_overlap"] for r in first])), 4
    )
    if "key_0" in per_case:  # each setting against today's sampler, primer by primer
        base = per_primer(per_case["key_0"], len(cases), "pitch_class_overlap")
        versus = {}
        for name, rows in per_case.items():
            if name != "key_0":
                diff = per_primer(rows, len(cases), "pitch_class_overlap") - base
                se = diff.std(ddof=1) / np.sqrt(len(diff))
                versus[name] = {"mean": round(float(diff.mean()), 4), "se": round(float(se), 4)}
        part["minus_key_0"] = versus
    return part


def main(argv: Sequence[str] = ()) -> int:
    from plugins.music_transformer.checkpoint import DEFAULT_CHECKPOINT, load_weights
    from plugins.music_transformer.corpus import DATA_DIR, load_pieces
    from plugins.music_transformer.evaluate import held_out_test
    from plugins.music_transformer.outside import DATA as OUTSIDE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--outside", type=Path, default=OUTSIDE)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument(
        "--settings",
        default="0,0.5,1,2,plain:1",
        help="key strengths to compare (plain:S = without the renormalisation)",
    )
    parser.add_argument("--pieces", type=int, default=0, help="held-out primers (0: all)")
    parser.add_argument("--outside-per-piece", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=1, help="continuations per primer")
    parser.add_argument("--report", type=Path, help="also write the JSON here")
    args = parser.parse_args(list(argv))
    torch.set_num_threads(1)
    started = time.monotonic()
    specs = [s for s in args.settings.split(",") if s]
    model, info = load_weights(args.checkpoint)
    cases = piece_cases(held_out_test(load_pieces(args.data)), 8.0, CONTINUATION_BEATS)
    if args.pieces:
        cases = cases[: args.pieces]
    outside = outside_cases(load_pieces(args.outside), args.outside_per_piece)
    report: dict[str, object] = {
        "what": "one 8-beat continuation per primer at the plugin defaults, key_strength "
        "varied, vs the real next 8 beats and the primer-histogram baseline",
        "defaults": plugin_defaults().__dict__,
        "arguments": {k: str(v) for k, v in vars(args).items()},
        "held_out": run_part(model, cases, specs, None, "held-out", args.seeds),
        "outside": run_part(model, outside, specs, "any", "outside", args.seeds),
        "checkpoint": info,
    }
    report["seconds"] = round(time.monotonic() - started, 1)
    print(write_json_report(report, args.report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
