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
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from host.progress import Stage, track
from plugins.music_transformer.checkpoint import (
    BASELINE_CHECKPOINT,
    DEFAULT_CHECKPOINT,
    load_weights,
)
from plugins.music_transformer.corpus import DATA_DIR, Piece, load_pieces
from plugins.music_transformer.dataset import evaluation_windows, piece_notes, piece_tokens
from plugins.music_transformer.events import (
    PAD,
    VOCAB_SIZE,
    EventDecoder,
    TimedNote,
    encode,
    style_token,
    velocity_after,
)
from plugins.music_transformer.generate import Continuation, SamplingSettings
from plugins.music_transformer.model import MusicTransformer, count_parameters
from plugins.music_transformer.ngram import NGramModel
from plugins.music_transformer.train import sequence_nll

PRIMER_BEATS = 8.0
CONTINUATION_BEATS = 8.0
STUCK_SECONDS = 4.0  # a note held longer than this in a continuation counts as not closed


def fingerprint(piece: Piece, notes: int = 24) -> tuple[tuple[float, int], ...]:
    """The first notes' onsets and intervals from the first pitch: equal for a piece and its
    transposed copies (the corpus holds a few tunes twice under different names)."""
    rows = piece.notes[:notes]
    base = int(rows[0, 0])
    return tuple((round(float(start), 2), int(pitch) - base) for pitch, _, start, _ in rows)


def _rows(windows: torch.Tensor) -> list[list[int]]:
    return [[t for t in row.tolist() if t != PAD] for row in windows]


def pitch_class_histogram(notes: Sequence[TimedNote]) -> np.ndarray:
    histogram = np.zeros(12)
    for note in notes:
        histogram[note.pitch % 12] += 1
    return histogram / max(1.0, histogram.sum())


def histogram_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """1 - total variation distance: 1.0 for identical pitch-class distributions."""
    return float(1.0 - 0.5 * np.abs(a - b).sum())


def continuation_stats(
    model: MusicTransformer,
    pieces: Sequence[Piece],
    seed: int,
    settings: SamplingSettings,
    label: str = "continuations",
) -> dict[str, float]:
    overlaps, primer_overlaps, density_ratios, well_formed, closed, ons = [], [], [], 0, 0, 0
    used = 0
    for index, piece in enumerate(track(pieces, f"music-transformer: {label}", unit="piece")):
        seconds_per_beat = 60.0 / piece.bpm
        notes = piece_notes(piece)
        cut = PRIMER_BEATS * seconds_per_beat
        end = cut + CONTINUATION_BEATS * seconds_per_beat
        primer = [n for n in notes if n.start + n.duration <= cut + 1e-6]
        real = [n for n in notes if cut <= n.start < end]
        if len(primer) < 4 or len(real) < 4:
            continue
        used += 1
        primer_end = max(n.start + n.duration for n in primer)
        prefix = [style_token(piece.style)] + encode(primer)
        decoder = EventDecoder(velocity=velocity_after(prefix))
        target = end - primer_end
        generated: list[TimedNote] = []
        stream = Continuation(model, prefix, 1, settings, seed + index).stream()
        for step, (token,) in enumerate(stream):
            generated.extend(decoder.feed(token))
            if decoder.time >= target or step > 4000:
                break
        stuck = [
            p for p, (start, _) in decoder.sounding.items() if decoder.time - start > STUCK_SECONDS
        ]
        ons += decoder.stats.note_ons
        closed += decoder.stats.note_ons - len(stuck)
        generated.extend(decoder.flush())
        well_formed += int(decoder.stats.impossible == 0 and not stuck)
        shifted_real = [n for n in real]
        real_histogram = pitch_class_histogram(shifted_real)
        overlaps.append(histogram_overlap(pitch_class_histogram(generated), real_histogram))
        primer_overlaps.append(histogram_overlap(pitch_class_histogram(primer), real_histogram))
        real_density = len(real) / CONTINUATION_BEATS
        made = [n for n in generated if n.start < target]
        density_ratios.append(len(made) / max(1e-9, (target / seconds_per_beat)) / real_density)
    log_ratios = [abs(math.log(max(r, 1e-3))) for r in density_ratios]
    return {
        "pieces": used,
        "pitch_class_overlap": round(float(np.mean(overlaps)), 4),
        "pitch_class_overlap_primer_baseline": round(float(np.mean(primer_overlaps)), 4),
        "note_density_ratio_median": round(float(np.median(density_ratios)), 3),
        "note_density_abs_log_ratio_mean": round(float(np.mean(log_ratios)), 3),
        "well_formed_fraction": round(well_formed / max(1, used), 4),
        "note_on_closed_fraction": round(closed / max(1, ons), 4),
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
    seen = {fingerprint(p) for p in train}
    test_all = [p for p in pieces if p.split == "test"]
    test = [p for p in test_all if fingerprint(p) not in seen]  # no tune the models trained on
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
