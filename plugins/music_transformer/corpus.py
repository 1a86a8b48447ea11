"""Data builder: music21 corpus scores -> note lists in beats, with a style label per piece.

Run `python -m plugins.music_transformer.corpus --out data/music_transformer` (about ten
minutes on two busy cores). Parsing is the slow part, so each collection has a cap on files and
the result is cached as one pickle of `Piece`s; encoding to events happens at training time so
transposition and tempo-stretch augmentation stay cheap.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import pickle
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The project's data folder, wherever the command runs from.
DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "music_transformer"

# Collection folder in the music21 corpus -> (style token, max files to parse). Caps keep the
# build inside the time we have: one Essen file holds ~300 songs and takes ~40 s to parse.
COLLECTIONS: dict[str, tuple[str, int]] = {
    "bach": ("bach", 433),
    "ryansMammoth": ("irish", 1059),
    "oneills1850": ("irish", 8),
    "airdsAirs": ("irish", 6),
    "nottingham-dataset": ("irish", 1),
    "essenFolksong": ("essen", 5),
    "palestrina": ("palestrina", 360),
    "trecento": ("renaissance", 103),
    "monteverdi": ("renaissance", 97),
    "josquin": ("renaissance", 8),
    "ciconia": ("renaissance", 1),
    "luca": ("renaissance", 1),
    "lusitano": ("renaissance", 1),
    "beethoven": ("classical", 26),
    "mozart": ("classical", 16),
    "haydn": ("classical", 9),
    "schumann_robert": ("classical", 7),
    "schumann_clara": ("classical", 5),
    "chopin": ("classical", 1),
    "schubert": ("classical", 1),
    "handel": ("classical", 1),
    "corelli": ("classical", 1),
    "cpebach": ("classical", 1),
    "weber": ("classical", 1),
    "verdi": ("classical", 1),
    "beach": ("classical", 1),
    "joplin": ("classical", 1),
}
# Big scores (string quartets, symphonies) take a minute or more each to parse on a busy core;
# compressed .mxl files are ~10x denser than plain MusicXML.
MAX_FILE_BYTES = {".mxl": 25_000, ".xml": 200_000, ".krn": 100_000, ".abc": 150_000}
PRIORITY = ("bach", "ryansMammoth", "palestrina", "essenFolksong", "trecento", "monteverdi")
DEFAULT_BPM = 100.0


@dataclass(frozen=True)
class Piece:
    piece_id: str  # "<collection>/<file stem>[#<index in opus>]"
    style: str
    bpm: float  # from the score's first metronome mark, else DEFAULT_BPM
    notes: np.ndarray  # float32 (N, 4): pitch, velocity, start_beat, duration_beat

    @property
    def split(self) -> str:
        """Fixed split by piece: 90% train, 5% validation, 5% test (hash of the id)."""
        bucket = int(hashlib.sha1(self.piece_id.encode()).hexdigest()[:8], 16) % 100
        return "train" if bucket < 90 else ("valid" if bucket < 95 else "test")


def corpus_files() -> list[tuple[str, Path]]:
    """The files to parse, in a fixed order: (collection, path)."""
    from music21 import corpus

    by_collection: dict[str, list[Path]] = {}
    for path in corpus.getCorePaths():
        parts = path.parts
        collection = parts[parts.index("corpus") + 1]
        if collection in COLLECTIONS and path.suffix in (".mxl", ".xml", ".krn", ".abc"):
            if path.stat().st_size <= MAX_FILE_BYTES[path.suffix]:
                by_collection.setdefault(collection, []).append(path)
    chosen: list[tuple[str, Path]] = []
    # Most valuable collections first, so a time-limited build still covers them.
    order = sorted(by_collection, key=lambda c: (PRIORITY.index(c) if c in PRIORITY else 99, c))
    for collection in order:
        paths = by_collection[collection]
        cap = COLLECTIONS[collection][1]
        chosen.extend((collection, p) for p in sorted(paths)[:cap])
    return chosen


def _score_notes(score: object) -> tuple[np.ndarray, float]:
    from music21 import tempo

    stripped = score.stripTies(inPlace=False)  # type: ignore[attr-defined]
    flat = stripped.flatten()
    bpm = DEFAULT_BPM
    marks = list(flat.getElementsByClass(tempo.MetronomeMark))
    if marks and marks[0].getQuarterBPM():
        bpm = float(min(200.0, max(40.0, marks[0].getQuarterBPM())))
    rows = []
    for element in flat.notes:
        duration = float(element.quarterLength)
        if duration <= 0:
            continue  # grace notes
        velocity = element.volume.velocity if element.volume.velocity else 80
        for pitch in element.pitches:
            if 0 <= pitch.midi <= 127:
                rows.append((pitch.midi, velocity, float(element.offset), duration))
    notes = np.array(sorted(rows, key=lambda r: (r[2], r[0])), dtype=np.float32).reshape(-1, 4)
    return notes, bpm


def parse_file(item: tuple[str, Path]) -> list[Piece]:
    """All pieces in one corpus file (an ABC file may hold hundreds); unparsable files give []."""
    from music21 import converter, stream

    collection, path = item
    style = COLLECTIONS[collection][0]
    try:
        parsed = converter.parse(path)
        scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    except Exception:  # noqa: BLE001 - music21 fails on some corpus files; skip them
        return []
    pieces = []
    for index, score in enumerate(scores):
        try:
            notes, bpm = _score_notes(score)
        except Exception:  # noqa: BLE001
            continue
        if len(notes) >= 8:
            suffix = f"#{index}" if len(scores) > 1 else ""
            pieces.append(Piece(f"{collection}/{path.stem}{suffix}", style, bpm, notes))
    return pieces


def _cached_parse(item: tuple[str, Path, Path]) -> list[Piece]:
    """parse_file with a per-file cache, so an interrupted build resumes where it stopped."""
    collection, path, cache = item
    target = cache / collection / f"{path.stem}.pkl"
    if target.is_file():
        with open(target, "rb") as handle:
            return [Piece(*row) for row in pickle.load(handle)]
    pieces = parse_file((collection, path))
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as handle:
        pickle.dump([(p.piece_id, p.style, p.bpm, p.notes) for p in pieces], handle)
    return pieces


def build(out: Path, workers: int, minutes: float | None = None) -> list[Piece]:
    files = corpus_files()
    started = time.monotonic()
    pieces: list[Piece] = []
    items = [(collection, path, out / "cache") for collection, path in files]
    with multiprocessing.Pool(workers) as pool:
        for done, result in enumerate(pool.imap(_cached_parse, items, chunksize=2), 1):
            pieces.extend(result)
            elapsed = time.monotonic() - started
            if done % 50 == 0 or done == len(files):
                print(
                    f"{done}/{len(files)} files, {len(pieces)} pieces, {elapsed:.0f} s", flush=True
                )
            if minutes is not None and elapsed > minutes * 60:
                print(f"time budget reached after {done} files", flush=True)
                pool.terminate()
                break
    out.mkdir(parents=True, exist_ok=True)
    # Plain tuples, not `Piece`s: a pickle written under `python -m` would name `__main__.Piece`.
    rows = [(p.piece_id, p.style, p.bpm, p.notes) for p in pieces]
    with open(out / "pieces.pkl", "wb") as handle:
        pickle.dump(rows, handle)
    return pieces


def load_pieces(folder: Path) -> list[Piece]:
    path = folder / "pieces.pkl"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found; build it with `python -m plugins.music_transformer.corpus "
            f"--out {folder}`"
        )
    with open(path, "rb") as handle:
        return [Piece(*row) for row in pickle.load(handle)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=None, help="stop parsing after this")
    args = parser.parse_args(argv)
    pieces = build(args.out, args.workers, args.minutes)
    splits: dict[str, int] = {}
    for piece in pieces:
        splits[piece.split] = splits.get(piece.split, 0) + 1
    print(f"{len(pieces)} pieces {splits} -> {args.out / 'pieces.pkl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
