"""`dawhost eval music-transformer --json`: test-set quality of the shipped model, with its
baselines computed in the same run. Prints one JSON object.

- NLL in nats per event on the fixed test windows for the relative model, the same-size
  absolute-position baseline, and Witten-Bell n-grams (orders 2..6, fitted on the training
  pieces; the best order on the validation windows is the reported baseline).
- Continuations of held-out primers (the first bars of test pieces): pitch-class histogram and
  note-density agreement with the real continuation, compared with the primer-as-prediction
  baseline, and the fraction of well-formed output.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import torch

from host.progress import Stage, track
from plugins.music_transformer.checkpoint import (
    BASELINE_CHECKPOINT,
    DEFAULT_CHECKPOINT,
    load_weights,
)
from plugins.music_transformer.continuations import (
    piece_cases,
    prefix_of,
    run_stream,
    score,
    summarise,
)
from plugins.music_transformer.corpus import DATA_DIR, Piece, load_pieces
from plugins.music_transformer.dataset import evaluation_windows, piece_tokens
from plugins.music_transformer.events import PAD, VOCAB_SIZE, style_token
from plugins.music_transformer.generate import Continuation, SamplingSettings
from plugins.music_transformer.model import MusicTransformer, count_parameters
from plugins.music_transformer.ngram import NGramModel
from plugins.music_transformer.train import sequence_nll

PRIMER_BEATS = 8.0
CONTINUATION_BEATS = 8.0


def fingerprint(piece: Piece, notes: int = 24) -> tuple[tuple[float, int], ...]:
    """The first notes' onsets and intervals from the first pitch: equal for a piece and its
    transposed copies (the corpus holds a few tunes twice under different names)."""
    rows = piece.notes[:notes]
    base = int(rows[0, 0])
    return tuple((round(float(start), 2), int(pitch) - base) for pitch, _, start, _ in rows)


def _rows(windows: torch.Tensor) -> list[list[int]]:
    return [[t for t in row.tolist() if t != PAD] for row in windows]


def held_out_test(pieces: Sequence[Piece]) -> list[Piece]:
    """The test pieces, less those whose opening equals a training piece's."""
    seen = {fingerprint(p) for p in pieces if p.split == "train"}
    return [p for p in pieces if p.split == "test" and fingerprint(p) not in seen]


def continuation_stats(
    model: MusicTransformer,
    pieces: Sequence[Piece],
    seed: int,
    settings: SamplingSettings,
    label: str = "continuations",
) -> dict[str, float]:
    """Continue each piece's first PRIMER_BEATS for CONTINUATION_BEATS (seed + index) and
    compare with what the piece really does next."""
    rows = []
    cases = piece_cases(pieces, PRIMER_BEATS, CONTINUATION_BEATS)
    for index, case in enumerate(track(cases, f"music-transformer: {label}", unit="piece")):
        prefix = prefix_of(case)
        stream = Continuation(model, prefix, 1, settings, seed + index).stream()
        rows.append(score(case, run_stream((token for (token,) in stream), case, prefix)))
    summary = summarise(rows)
    return {
        "pieces": int(summary["cases"]),
        "pitch_class_overlap": summary["pitch_class_overlap"],
        "pitch_class_overlap_primer_baseline": summary["primer_baseline_overlap"],
        "note_density_ratio_median": summary["density_ratio_median"],
        "note_density_abs_log_ratio_mean": summary["density_abs_log_ratio_mean"],
        "well_formed_fraction": summary["well_formed"],
        "note_on_closed_fraction": summary["note_on_closed_fraction"],
    }


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(prog="dawhost eval music-transformer", description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--baseline", type=Path, default=BASELINE_CHECKPOINT)
    parser.add_argument("--pieces", type=int, default=24, help="test pieces to continue")
    parser.add_argument("--max-windows", type=int, default=None, help="cap on test windows")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="(the output is always JSON)")
    args = parser.parse_args(list(argv))
    torch.set_num_threads(args.threads)
    started = time.monotonic()

    relative, relative_info = load_weights(args.checkpoint)
    absolute, absolute_info = load_weights(args.baseline)
    length = relative.config.max_len
    if absolute.config.max_len != length:
        raise SystemExit("the two checkpoints use different window lengths; cannot compare")
    pieces = load_pieces(args.data)
    train = [p for p in pieces if p.split == "train"]
    valid = [p for p in pieces if p.split == "valid"]
    test_all = [p for p in pieces if p.split == "test"]
    test = held_out_test(pieces)  # no tune the models trained on
    test_windows = evaluation_windows(test, length, limit=args.max_windows)
    valid_windows = evaluation_windows(valid, length, limit=args.max_windows)
    targets = int((test_windows[:, 1:] != PAD).sum())

    with Stage("music-transformer: test NLL", 2, unit="model") as stage:
        nll_relative = sequence_nll(relative, test_windows)
        stage.advance()
        nll_absolute = sequence_nll(absolute, test_windows)
        stage.advance()

    train_sequences = [[style_token(p.style)] + piece_tokens(p) for p in train]
    ngram_valid, ngram_test = {}, {}
    ngram = NGramModel(6, VOCAB_SIZE).fit(train_sequences)
    for order in track(range(2, 7), "music-transformer: n-gram orders", unit="order"):
        ngram_valid[order] = round(ngram.nll(_rows(valid_windows), order=order), 4)
        ngram_test[order] = round(ngram.nll(_rows(test_windows), order=order), 4)
    best_order = min(ngram_valid, key=ngram_valid.__getitem__)
    nll_ngram = ngram_test[best_order]

    settings = SamplingSettings(temperature=1.0, top_k=0, top_p=0.95)
    held_out = test[: args.pieces]
    report = {
        "test": {
            "pieces": len(test),
            "duplicates_of_train_dropped": len(test_all) - len(test),
            "windows": len(test_windows),
            "events": targets,
            "window_events": length - 1,
        },
        "nll_nats_per_event": {
            "relative": round(nll_relative, 4),
            "absolute_baseline": round(nll_absolute, 4),
            f"ngram_baseline_order{best_order}": nll_ngram,
        },
        "ngram_nll_by_order": {"valid": ngram_valid, "test": ngram_test},
        "relative_vs_absolute_nll_ratio": round(nll_relative / nll_absolute, 4),
        "relative_vs_ngram_nll_ratio": round(nll_relative / nll_ngram, 4),
        "relative_beats_both": nll_relative < nll_absolute and nll_relative < nll_ngram,
        "continuations": {
            "settings": {
                "temperature": 1.0,
                "top_p": 0.95,
                "primer_beats": PRIMER_BEATS,
                "continuation_beats": CONTINUATION_BEATS,
            },
            "relative": continuation_stats(relative, held_out, args.seed, settings, "relative"),
            "absolute_baseline": continuation_stats(
                absolute, held_out, args.seed, settings, "absolute baseline"
            ),
            # what the plugin does by default: the same sampling with the note-state mask
            "relative_with_well_formed_mask": continuation_stats(
                relative, held_out, args.seed, replace(settings, well_formed=True), "masked"
            ),
        },
        "models": {
            "relative": {"parameters": count_parameters(relative), **relative_info},
            "absolute_baseline": {"parameters": count_parameters(absolute), **absolute_info},
        },
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
