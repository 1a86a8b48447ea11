"""Builds the multitrack data set: Bach chorales (music21 corpus) arranged as four-stem songs and
rendered with FluidSynth, split by piece into train / val / test with a held-out soundfont.

    python -m plugins.separation.build_data [--out data/separation] [--workers 2]

Train and val songs are stored at the internal rate (11.025 kHz), stereo, as float16 arrays
shaped (4 stems, 2 channels, samples): the mask network reads their mid channel, the stereo
refiner both channels. Test songs as 44.1 kHz stereo float WAVs, one per
stem plus the mixture, so evaluation runs the full pipeline at a real input rate. The split
lives in `data_split.json` next to this file (committed): the same pieces and seeds every time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from plugins.separation.stems import (
    HELD_OUT_SOUNDFONT,
    INTERNAL_RATE,
    STEMS,
    TRAIN_SOUNDFONTS,
    soundfont_path,
)

if TYPE_CHECKING:
    from plugins.separation.arrangement import Song

SPLIT_FILE = Path(__file__).parent / "data_split.json"
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "data" / "separation"
TEST_RATE = 44_100
N_TEST, N_VAL = 24, 12


@dataclass(frozen=True)
class RenderTask:
    split: str  # train / val / test
    piece: str  # chorale file name without suffix, e.g. bwv10.7
    soundfont: str
    seed: int
    rate: int
    max_seconds: float
    sung: bool = False  # vocals sung by the vocal-tts plugin instead of a voice program

    @property
    def name(self) -> str:
        return f"{self.piece}__{Path(self.soundfont).stem}" + ("__sung" if self.sung else "")

    @property
    def group(self) -> str:
        """What `--only` selects: the split, or "sung" for the sung training takes."""
        return "sung" if self.sung else self.split


def _chorale_paths() -> dict[str, Path]:
    from music21 import corpus

    return {
        Path(p).stem: Path(p)
        for p in corpus.getComposer("bach")
        if str(p).endswith((".mxl", ".xml", ".krn"))
    }


def make_split(pieces: Sequence[str], seed: int = 20181) -> dict[str, list[str]]:
    names = sorted(pieces)
    order = np.random.default_rng(seed).permutation(len(names))
    shuffled = [names[i] for i in order]
    return {
        "test": sorted(shuffled[:N_TEST]),
        "val": sorted(shuffled[N_TEST : N_TEST + N_VAL]),
        "train": sorted(shuffled[N_TEST + N_VAL :]),
    }


def load_split() -> dict[str, list[str]]:
    """The recorded split; created on first use from the corpus and then never changed."""
    if SPLIT_FILE.is_file():
        return json.loads(SPLIT_FILE.read_text())
    from plugins.separation.arrangement import chorale_voices

    usable = []
    for piece, path in _chorale_paths().items():
        try:
            chorale_voices(path)
        except ValueError:
            continue  # not four monophonic voices (instrumental parts, chords in a voice)
        usable.append(piece)
    split = make_split(usable)
    SPLIT_FILE.write_text(json.dumps(split, indent=1) + "\n")
    return split


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest()[:4], "little")


def tasks(
    split: dict[str, list[str]], max_seconds: float = 12.0, train_seconds: float = 24.0
) -> list[RenderTask]:
    """Val first, then train (training can start on a partial set), then test.

    Each training piece is arranged twice, once per training soundfont, with its own tempo,
    key, instruments and drums, and up to `train_seconds` long: four times the audio of one
    12 s take, which the wide network needed (its validation SDR levelled off on one take).
    Every other training piece has a third take whose vocals vocal-tts sings (sung.py).
    Val and test stay one 12 s take per piece, so their figures compare across sessions.
    """
    out = []
    for i, piece in enumerate(split["val"]):
        sf = TRAIN_SOUNDFONTS[i % 2]
        out.append(RenderTask("val", piece, sf, _seed("val", piece), INTERNAL_RATE, max_seconds))
    for piece in split["train"]:
        for sf in TRAIN_SOUNDFONTS:
            seed = _seed("train", piece, sf)
            out.append(RenderTask("train", piece, sf, seed, INTERNAL_RATE, train_seconds))
    for i, piece in enumerate(split["train"][::2]):
        sf = TRAIN_SOUNDFONTS[i % 2]
        seed = _seed("train", piece, sf, "sung")
        out.append(RenderTask("train", piece, sf, seed, INTERNAL_RATE, train_seconds, sung=True))
    for i, piece in enumerate(split["test"]):
        # half the test set on a soundfont never heard in training, half on the training ones
        sf = HELD_OUT_SOUNDFONT if i % 2 == 0 else TRAIN_SOUNDFONTS[(i // 2) % 2]
        out.append(RenderTask("test", piece, sf, _seed("test", piece), TEST_RATE, max_seconds))
    return out


_RENDERERS: dict[tuple[str, int], object] = {}
_PATHS: dict[str, Path] = {}


def _render(job: tuple[RenderTask, Path]) -> dict[str, object]:
    from plugins.separation.arrangement import arrange, chorale_voices
    from plugins.separation.stems import soundfont_path
    from plugins.separation.synth import SoundfontRenderer

    task, out = job
    if not _PATHS:
        _PATHS.update(_chorale_paths())
    try:
        voices, beats_per_bar = chorale_voices(_PATHS[task.piece])
    except (ValueError, KeyError) as exc:
        return {"name": task.name, "split": task.split, "skipped": str(exc)}
    song = arrange(
        task.name, voices, beats_per_bar, np.random.default_rng(task.seed), task.max_seconds
    )
    key = (task.soundfont, task.rate)
    if key not in _RENDERERS:
        _RENDERERS[key] = SoundfontRenderer(soundfont_path(task.soundfont), task.rate)
    renderer = _RENDERERS[key]
    assert isinstance(renderer, SoundfontRenderer)
    stems = renderer.render(song)
    if task.sung and not _sing_vocals(task, song, beats_per_bar, stems):
        return {"name": task.name, "split": task.split, "skipped": "no singable vocal line"}
    peak = float(np.max(np.abs(sum(stems.values()))))
    if peak > 0.95:  # keep the mixture unclipped; scaling every stem keeps stems summing to it
        stems = {k: v * (0.95 / peak) for k, v in stems.items()}
    if task.split == "test":
        import soundfile

        folder = out / "test" / task.name
        folder.mkdir(parents=True, exist_ok=True)
        for stem, audio in stems.items():
            soundfile.write(folder / f"{stem}.wav", audio, task.rate, subtype="FLOAT")
        soundfile.write(folder / "mixture.wav", sum(stems.values()), task.rate, subtype="FLOAT")
    else:
        folder = out / task.split
        folder.mkdir(parents=True, exist_ok=True)
        stereo = np.stack([stems[s].T for s in STEMS]).astype(np.float16)
        np.save(folder / f"{task.name}.npy", stereo)
    return {
        "name": task.name,
        "split": task.split,
        "soundfont": task.soundfont,
        "tempo": round(song.tempo, 2),
        "seconds": round(song.seconds, 2),
        "programs": {p.stem + str(i): p.program for i, p in enumerate(song.parts)},
        "gains_db": song.gains_db,
    }


def _sing_vocals(
    task: RenderTask, song: Song, beats_per_bar: float, stems: dict[str, np.ndarray]
) -> bool:
    """Replace the rendered vocals with vocal-tts singing the same line at the same level."""
    from plugins.separation.sung import sung_melody

    frames = len(stems["vocals"])
    line = sung_melody(song, beats_per_bar, task.rate, frames, np.random.default_rng(task.seed))
    if line is None:
        return False
    level = float(np.sqrt(np.mean(stems["vocals"] ** 2)))  # 0 when the mix drops the vocals
    rms = float(np.sqrt(np.mean(line**2)))
    stems["vocals"] = np.repeat((line * (level / max(rms, 1e-9)))[:, None], 2, axis=1)
    return True


def renderer_versions() -> dict[str, object]:
    """What the songs were made with beyond the fixed seeds: two builds from the same seeds
    scored differently (0.04 dB on the test songs), so each build records its packages and
    soundfonts to tell later whether two data sets can be compared."""
    from importlib.metadata import PackageNotFoundError, version

    packages: dict[str, str | None] = {}
    for name in ("music21", "numpy", "scipy", "pyfluidsynth", "soundfile", "torch"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    soundfonts: dict[str, int | None] = {}
    for name in (*TRAIN_SOUNDFONTS, HELD_OUT_SOUNDFONT):
        try:
            soundfonts[name] = soundfont_path(name).stat().st_size
        except OSError:  # not installed: recorded as missing
            soundfonts[name] = None
    return {"packages": packages, "soundfont_bytes": soundfonts}


def main(argv: Sequence[str] | None = None) -> int:
    from tqdm import tqdm

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="render only the first N songs")
    parser.add_argument(
        "--only",
        choices=("train", "val", "test", "sung"),
        action="append",
        help="render only these groups (repeatable), e.g. --only sung",
    )
    args = parser.parse_args(argv)
    todo = [t for t in tasks(load_split()) if not args.only or t.group in args.only]
    if args.limit:
        todo = todo[: args.limit]
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [(t, args.out) for t in todo]
    index = []
    with multiprocessing.get_context("fork").Pool(
        args.workers, initializer=os.nice, initargs=(5,)
    ) as pool:
        for info in tqdm(
            pool.imap_unordered(_render, jobs, chunksize=1),
            total=len(jobs),
            desc="rendering songs",
            file=sys.stderr,
        ):
            index.append(info)
    skipped = sum(1 for i in index if "skipped" in i)
    print(f"rendered {len(index) - skipped} songs, skipped {skipped}", file=sys.stderr)
    index_path = args.out / "index.json"
    if args.only and index_path.is_file():  # keep what an earlier build recorded for the rest
        rendered = {i["name"] for i in index}
        index += [i for i in json.loads(index_path.read_text()) if i["name"] not in rendered]
    index.sort(key=lambda i: (str(i["split"]), str(i["name"])))
    index_path.write_text(json.dumps(index, indent=1, default=str) + "\n")
    (args.out / "build.json").write_text(json.dumps(renderer_versions(), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
