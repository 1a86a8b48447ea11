"""Listening material: continue a few held-out test primers and write primer + continuation as
MIDI files, with a one-line symbolic summary of each (what the README's "Listening" reports).

    python -m plugins.music_transformer.samples --out data/music_transformer/listen
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Sequence
from pathlib import Path

import torch

from host import Note
from host.smf import write_smf
from plugins.music_transformer.checkpoint import DEFAULT_CHECKPOINT, load_weights
from plugins.music_transformer.corpus import load_pieces
from plugins.music_transformer.dataset import piece_notes
from plugins.music_transformer.events import (
    EventDecoder,
    TimedNote,
    encode,
    style_token,
    velocity_after,
)
from plugins.music_transformer.generate import Continuation, SamplingSettings

BEATS = 8.0


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/music_transformer"))
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--out", type=Path, default=Path("data/music_transformer/listen"))
    parser.add_argument("--per-style", type=int, default=3)
    args = parser.parse_args(list(argv))
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    model, _ = load_weights(args.checkpoint)
    test = [p for p in load_pieces(args.data) if p.split == "test"]
    picks = [p for style in ("bach", "irish") for p in test if p.style == style]
    picks = [p for p in picks if p.style == "bach"][: args.per_style] + [
        p for p in picks if p.style == "irish"
    ][: args.per_style]
    settings = SamplingSettings(top_p=0.95, well_formed=True)  # the plugin's defaults
    for index, piece in enumerate(picks):
        seconds_per_beat = 60.0 / piece.bpm
        notes = piece_notes(piece)
        cut = BEATS * seconds_per_beat
        primer = [n for n in notes if n.start + n.duration <= cut + 1e-6]
        primer_end = max(n.start + n.duration for n in primer)
        prefix = [style_token(piece.style)] + encode(primer)
        decoder = EventDecoder(velocity=velocity_after(prefix))
        generated: list[TimedNote] = []
        stream = Continuation(model, prefix, 1, settings, seed=index).stream()
        for step, (token,) in enumerate(stream):
            generated += decoder.feed(token)
            if decoder.time >= cut or step > 3000:
                break
        generated += decoder.flush()
        classes = collections.Counter(n.pitch % 12 for n in generated)
        real = collections.Counter(n.pitch % 12 for n in notes if cut <= n.start < 2 * cut)
        polyphony = max(
            sum(1 for m in generated if m.start <= n.start < m.start + m.duration)
            for n in generated
        )
        on_grid = sum(
            abs(n.start / seconds_per_beat * 2 - round(n.start / seconds_per_beat * 2)) < 0.05
            for n in generated
        ) / len(generated)
        print(
            f"{piece.piece_id}: {len(generated)} notes in {BEATS:g} beats (real "
            f"{sum(real.values())}), pitches {min(n.pitch for n in generated)}-"
            f"{max(n.pitch for n in generated)}, max polyphony {polyphony}, "
            f"on the eighth grid {on_grid:.0%}, {decoder.stats}\n"
            f"    pitch classes generated {dict(sorted(classes.items()))}\n"
            f"    pitch classes real      {dict(sorted(real.items()))}"
        )
        both = [
            Note(n.pitch, n.velocity, n.start / seconds_per_beat, n.duration / seconds_per_beat)
            for n in primer
        ] + [
            Note(
                n.pitch,
                n.velocity,
                (primer_end + n.start) / seconds_per_beat,
                n.duration / seconds_per_beat,
            )
            for n in generated
        ]
        name = piece.piece_id.replace("/", "_")
        write_smf(args.out / f"{index}_{name}.mid", both, tempo=piece.bpm)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
