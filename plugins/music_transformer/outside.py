"""Primers unlike the training data: music21 corpus files the corpus builder never reads.

`python -m plugins.music_transformer.outside --out data/music_transformer_outside` parses them
(a few minutes) into `pieces.pkl`, the same format as the corpus. Sources, by kind:

- chinese-folk: Essen's Han folk songs (han1.abc), pentatonic, the training set has none;
- german-children: Essen's children's songs (kinder0.abc; the corpus reads other Essen files);
- american-fife: fife tunes (miscFolk/americanfifeopus.abc);
- songs: popular songs (leadSheet: Berlin's Alexander's Ragtime Band, Foster's Jeanie with
  the Light Brown Hair; Liliuokalani's Aloha 'Oe; Johnson's Lift Every Voice and Sing).

Every piece gets the style "any" (a user's own song has no corpus style); the `style` field of
the pickle holds the kind instead, so the report can group by it.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

from plugins.music_transformer.corpus import COLLECTIONS, Piece

DATA = Path(__file__).resolve().parents[2] / "data" / "music_transformer_outside"
SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "chinese-folk": (("essenFolksong", "han1.abc"),),
    "german-children": (("essenFolksong", "kinder0.abc"),),
    "american-fife": (("miscFolk", "americanfifeopus.abc"),),
    "songs": (
        ("leadSheet", "berlinAlexandersRagtime.mxl"),
        ("leadSheet", "fosterBrownHair.mxl"),
        ("liliuokalani", "aloha_oe.mxl"),
        ("johnson_j_r", "lift_every_voice.mxl"),
    ),
}
PER_KIND = 40  # pieces kept per kind (an Essen file holds hundreds)


def used_by_corpus(collection: str, name: str) -> bool:
    """Would the corpus builder read this file? (Then it is not outside the training data.)"""
    from plugins.music_transformer.corpus import corpus_files

    return collection in COLLECTIONS and any(
        c == collection and p.name == name for c, p in corpus_files()
    )


def parse(collection: str, name: str, kind: str, limit: int) -> list[Piece]:
    from music21 import converter, corpus, stream

    from plugins.music_transformer.corpus import _score_notes

    path = next(p for p in corpus.getCorePaths() if p.name == name and collection in p.parts)
    parsed = converter.parse(path)
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    pieces = []
    for index, score in enumerate(scores[:limit]):
        try:
            notes, bpm = _score_notes(score)
        except Exception:  # noqa: BLE001 - music21 fails on some scores; skip them
            continue
        if len(notes) >= 8:
            suffix = f"#{index}" if len(scores) > 1 else ""
            pieces.append(Piece(f"{collection}/{path.stem}{suffix}", kind, bpm, notes))
    return pieces


def build(out: Path) -> list[Piece]:
    pieces: list[Piece] = []
    for kind, files in SOURCES.items():
        for collection, name in files:
            if used_by_corpus(collection, name):
                raise SystemExit(f"{collection}/{name} is in the training corpus")
            pieces += parse(collection, name, kind, PER_KIND)
            print(f"{kind}: {collection}/{name}: {len(pieces)} pieces so far", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "pieces.pkl", "wb") as handle:
        pickle.dump([(p.piece_id, p.style, p.bpm, p.notes) for p in pieces], handle)
    return pieces


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args(argv)
    pieces = build(args.out)
    print(f"{len(pieces)} pieces -> {args.out / 'pieces.pkl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
