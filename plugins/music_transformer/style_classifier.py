"""Style from notes with the Music Transformer itself: Bayes' rule over its style tokens.

For each style s the network gives log p(events | s) (the sum of next-event log-probabilities
after the style token); with a uniform prior, p(s | events) is the softmax of those. No extra
training: the conditioning the network learnt is the classifier. `style = auto` in
music-transformer uses it on the primer; `python -m plugins.music_transformer.style_classifier`
measures it on held-out corpus pieces against chance and a majority-class baseline.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from host.reports import write_json_report
from plugins.music_transformer.events import STYLES, TimedNote, encode, style_token

if TYPE_CHECKING:
    from plugins.music_transformer.model import MusicTransformer

CANDIDATES = tuple(s for s in STYLES if s != "any")
MAX_EVENTS = 256  # the primer's first events: enough to tell, and one batch stays small
# The velocity the corpus's scores play at (corpus.py: music21 notes without dynamics): the
# style tokens were learnt without dynamics, so a performance's or a transcription's
# velocities only mislead them (random velocities on held-out pieces: 0.79 -> 0.08 accuracy).
SCORE_VELOCITY = 80


def as_score(notes: Sequence[TimedNote]) -> list[TimedNote]:
    """The notes as the corpus has them: every velocity SCORE_VELOCITY."""
    return [replace(n, velocity=SCORE_VELOCITY) for n in notes]


def style_log_likelihoods(network: MusicTransformer, notes: Sequence[TimedNote]) -> np.ndarray:
    """log p(events | style) for each of CANDIDATES, in nats (one batched forward pass)."""
    import torch

    events = encode(as_score(notes))[: min(MAX_EVENTS, network.config.max_len - 1)]
    if not events:
        return np.zeros(len(CANDIDATES))
    rows = torch.tensor([[style_token(s)] + events for s in CANDIDATES])
    with torch.inference_mode():
        logits = network(rows[:, :-1]).log_softmax(dim=-1)
    picked = logits.gather(2, rows[:, 1:, None])[..., 0]
    return picked.sum(dim=1).double().numpy()


def classify(network: MusicTransformer, notes: Sequence[TimedNote]) -> dict[str, float]:
    """Posterior probability of each style (uniform prior), highest first."""
    scores = style_log_likelihoods(network, notes)
    posterior = np.exp(scores - scores.max())
    posterior /= posterior.sum()
    order = np.argsort(-posterior)
    return {CANDIDATES[i]: float(posterior[i]) for i in order}


def _held_out(piece_id: str) -> bool:
    bucket = int(hashlib.sha1(piece_id.encode()).hexdigest()[:8], 16) % 100
    return bucket >= 90  # the corpus's valid and test buckets: never trained on


def held_out_pieces(per_style: int, seconds_budget: float) -> list:  # type: ignore[type-arg]
    """Held-out corpus pieces, up to `per_style` for each style; single-score files are
    picked by their id's hash before parsing (parsing is the slow part)."""
    from plugins.music_transformer.corpus import corpus_files, parse_file

    counts: dict[str, int] = {}
    pieces = []
    deadline = time.monotonic() + seconds_budget
    for collection, path in corpus_files():
        if time.monotonic() > deadline:
            break
        from plugins.music_transformer.corpus import COLLECTIONS

        style = COLLECTIONS[collection][0]
        if counts.get(style, 0) >= per_style:
            continue
        opus = path.suffix == ".abc"  # may hold many tunes, each with its own id
        if not opus and not _held_out(f"{collection}/{path.stem}"):
            continue
        for piece in parse_file((collection, path)):
            if _held_out(piece.piece_id) and counts.get(style, 0) < per_style:
                pieces.append(piece)
                counts[style] = counts.get(style, 0) + 1
    return pieces


def main(argv: Sequence[str] = ()) -> int:
    from plugins.music_transformer.checkpoint import DEFAULT_CHECKPOINT, load_weights
    from plugins.music_transformer.dataset import piece_notes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--per-style", type=int, default=20)
    parser.add_argument("--parse-seconds", type=float, default=300.0)
    parser.add_argument("--report", type=Path)
    args = parser.parse_args(list(argv))
    import torch

    torch.set_num_threads(1)
    network, _ = load_weights(args.checkpoint)
    network.eval()
    pieces = held_out_pieces(args.per_style, args.parse_seconds)
    if not pieces:
        raise SystemExit("no held-out pieces parsed")
    truth = [p.style for p in pieces]
    guesses = [next(iter(classify(network, piece_notes(p)))) for p in pieces]
    styles = sorted(set(truth))
    majority = max(styles, key=truth.count)
    confusion = {s: {g: 0 for g in CANDIDATES} for s in styles}
    for t, g in zip(truth, guesses, strict=True):
        confusion[t][g] += 1
    accuracy = float(np.mean([t == g for t, g in zip(truth, guesses, strict=True)]))
    per_style = {s: round(confusion[s][s] / truth.count(s), 3) for s in styles}
    report = {
        "pieces": len(pieces),
        "per_style_counts": {s: truth.count(s) for s in styles},
        "accuracy": round(accuracy, 4),
        "balanced_accuracy": round(float(np.mean(list(per_style.values()))), 4),
        "per_style_recall": per_style,
        "chance": round(1 / len(CANDIDATES), 4),
        "majority_class": majority,
        "majority_accuracy": round(truth.count(majority) / len(truth), 4),
        "confusion": {s: {g: n for g, n in row.items() if n} for s, row in confusion.items()},
        "events_used": MAX_EVENTS,
    }
    print(write_json_report(report, args.report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
