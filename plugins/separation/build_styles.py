"""Builds the many-style data set: pop, rock, ballad, waltz, blues and chorale songs on every
General MIDI soundfont Debian packages, drums from soundfonts or recorded Hydrogen kits,
production effects (effects.py), some vocals sung by vocal-tts (sung.py); and two test splits
that measure generalisation separately:

- `test_style`: songs of a style never built for training (jazz), on the training soundfonts;
- `test_soundfont`: the training styles on a soundfont never used in training (TimGM6mb), its
  own drums too.

    python -m plugins.separation.build_styles [--out data/separation-styles] [--train 360]

The held-out style and soundfont and the training lists are recorded in `data_split.json`
("generalisation"). The layout is build_data's: train/val as float16 (4 stems, 2 channels,
samples) arrays at the internal rate, test splits as folders of 44.1 kHz WAVs
(test_style/<song>/{mixture,vocals,drums,bass,other}.wav), so `train.py --data` and
`evaluate.py --data ... --split test_style --split test_soundfont` read them as they are.
One worker: the machine is shared.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plugins.separation.build_data import DEFAULT_OUT, TEST_RATE, _seed, load_split
from plugins.separation.stems import INTERNAL_RATE, STEMS

DEFAULT_STYLES_OUT = DEFAULT_OUT.parent / "separation-styles"
SONGS = {"train": 360, "val": 12, "test_style": 12, "test_soundfont": 12}
TEST_SPLITS = ("test_style", "test_soundfont")  # the held-out style, the held-out soundfont
SECONDS = {"train": 20.0, "val": 12.0, "test_style": 12.0, "test_soundfont": 12.0}
KIT_CHANCE = 0.4  # drums from a recorded Hydrogen kit instead of the soundfont's
SUNG_CHANCE = 0.25  # vocals sung by vocal-tts instead of a voice program
EFFECTS_CHANCE = 0.85  # production effects on the stems and the mix


@dataclass(frozen=True)
class StyleTask:
    split: str  # train / val / test_style / test_soundfont
    index: int
    style: str  # a styles.STYLES key or "chorale"
    soundfont: str
    seed: int
    rate: int
    seconds: float
    piece: str | None = None  # the chorale, for style "chorale"
    kit: str | None = None  # a Hydrogen kit for the drums
    sung: bool = False
    effects: bool = True

    @property
    def name(self) -> str:
        parts = [f"{self.split}{self.index:03d}", self.style, Path(self.soundfont).stem]
        if self.kit:
            parts.append("kit")
        if self.sung:
            parts.append("sung")
        return "__".join(parts)


def generalisation() -> dict[str, object]:
    """The held-out style and soundfont and the training ones (data_split.json)."""
    record = load_split().get("generalisation")
    if not isinstance(record, dict):
        raise RuntimeError("data_split.json has no 'generalisation' record")
    return record


def tasks(
    songs: dict[str, int] | None = None, kits: Sequence[str] = (), seconds: float = 0.0
) -> list[StyleTask]:
    """Val and the two test splits first (small), then train, so training can start early.
    `seconds` (when > 0) caps every song's length (tests)."""
    counts = {**SONGS, **(songs or {})}
    gen = generalisation()
    train_styles = [str(s) for s in gen["train_styles"]]  # type: ignore[attr-defined]
    train_fonts = [str(s) for s in gen["train_soundfonts"]]  # type: ignore[attr-defined]
    pieces = load_split()
    out: list[StyleTask] = []
    for split in ("val", "test_style", "test_soundfont", "train"):
        chorales = pieces["test" if split.startswith("test") else split]
        for i in range(counts[split]):
            rng = np.random.default_rng(_seed("styles", split, str(i)))
            if split == "test_style":
                style = str(gen["held_out_style"])
            else:
                style = train_styles[i % len(train_styles)]
            if split == "test_soundfont":
                font = str(gen["held_out_soundfont"])
            elif split == "train":  # every style on every soundfont, every 30 songs
                font = train_fonts[(i // len(train_styles)) % len(train_fonts)]
            else:  # 12 songs: all five soundfonts
                font = train_fonts[i % len(train_fonts)]
            kit = None
            if kits and split != "test_soundfont" and rng.random() < KIT_CHANCE:
                kit = str(kits[int(rng.integers(len(kits)))])
            out.append(
                StyleTask(
                    split,
                    i,
                    style,
                    font,
                    int(rng.integers(1 << 31)),
                    TEST_RATE if split.startswith("test") else INTERNAL_RATE,
                    min(SECONDS[split], seconds) if seconds > 0 else SECONDS[split],
                    piece=chorales[i % len(chorales)] if style == "chorale" else None,
                    kit=kit,
                    sung=bool(rng.random() < SUNG_CHANCE),
                    effects=bool(rng.random() < EFFECTS_CHANCE),
                )
            )
    return out


_RENDERERS: dict[tuple[str, int], object] = {}


def render_task(task: StyleTask) -> tuple[dict[str, np.ndarray], dict[str, object]] | None:
    """The task's stems, (frames, 2) float32 each, summing to a mixture that does not clip;
    None when a chorale cannot be arranged."""
    from plugins.separation import drumkits, effects
    from plugins.separation.arrangement import arrange, chorale_voices
    from plugins.separation.build_data import _chorale_paths
    from plugins.separation.stems import soundfont_path
    from plugins.separation.styles import arrange_style
    from plugins.separation.synth import SoundfontRenderer, level

    rng = np.random.default_rng(task.seed)
    if task.style == "chorale":
        try:
            voices, bar = chorale_voices(_chorale_paths()[str(task.piece)])
        except (ValueError, KeyError):
            return None
        song = arrange(task.name, voices, bar, rng, task.seconds)
    else:
        song, bar = arrange_style(task.name, task.style, rng, task.seconds)
    key = (task.soundfont, task.rate)
    if key not in _RENDERERS:
        _RENDERERS[key] = SoundfontRenderer(soundfont_path(task.soundfont), task.rate)
    renderer = _RENDERERS[key]
    assert isinstance(renderer, SoundfontRenderer)
    drum_parts = [p for p in song.parts if p.drums]
    synth_song = song
    if task.kit:
        synth_song = copy.copy(song)
        synth_song.parts = [p for p in song.parts if not p.drums]
    stems = renderer.render(synth_song)
    frames = len(stems["drums"])
    if task.kit:
        played = sum(
            (drumkits.render_drums(task.kit, p, song.tempo, frames, task.rate) for p in drum_parts),
            np.zeros((frames, 2), np.float32),
        )
        stems["drums"] = level(played, song.gains_db["drums"])
    sung = False
    if task.sung:
        from plugins.separation.build_data import _sing_vocals

        sung = _sing_vocals(task, song, bar, stems)  # type: ignore[arg-type]
    if task.effects:
        stems = effects.produce(stems, task.rate, rng)
    peak = float(np.max(np.abs(sum(stems.values()))))
    if peak > 0.95:  # scaling every stem alike keeps them summing to the mixture
        stems = {k: v * (0.95 / peak) for k, v in stems.items()}
    info: dict[str, object] = {
        "name": task.name,
        "split": task.split,
        "style": task.style,
        "soundfont": task.soundfont,
        "kit": task.kit,
        "sung": sung,
        "effects": task.effects,
        "piece": task.piece,
        "tempo": round(song.tempo, 2),
        "beats_per_bar": bar,
        "seconds": round(song.seconds, 2),
        "programs": {p.stem + str(i): p.program for i, p in enumerate(song.parts)},
        "gains_db": song.gains_db,
    }
    return stems, info


def write_song(out: Path, task: StyleTask, stems: dict[str, np.ndarray]) -> None:
    if task.split.startswith("test"):
        import soundfile

        folder = out / task.split / task.name
        folder.mkdir(parents=True, exist_ok=True)
        for stem, audio in stems.items():
            soundfile.write(folder / f"{stem}.wav", audio, task.rate, subtype="FLOAT")
        soundfile.write(folder / "mixture.wav", sum(stems.values()), task.rate, subtype="FLOAT")
    else:
        folder = out / task.split
        folder.mkdir(parents=True, exist_ok=True)
        array = np.stack([stems[s].T for s in STEMS]).astype(np.float16)
        tmp = folder / f".{task.name}.npy"
        np.save(tmp, array)
        tmp.rename(folder / f"{task.name}.npy")  # the trainer never reads half a file


def build_record() -> dict[str, object]:
    from importlib.metadata import PackageNotFoundError, version

    from plugins.separation.drumkits import available_kits
    from plugins.separation.stems import soundfont_path

    packages: dict[str, str | None] = {}
    for name in ("music21", "numpy", "pyfluidsynth", "pedalboard", "soundfile"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    gen = generalisation()
    fonts = [*gen["train_soundfonts"], gen["held_out_soundfont"]]  # type: ignore[misc]
    return {
        "packages": packages,
        "soundfont_bytes": {str(f): soundfont_path(str(f)).stat().st_size for f in fonts},
        "hydrogen_kits": available_kits(),
        "generalisation": gen,
    }


def main(argv: Sequence[str] | None = None) -> int:
    from tqdm import tqdm

    from plugins.separation.drumkits import available_kits

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_STYLES_OUT)
    for split, count in SONGS.items():
        parser.add_argument(f"--{split.replace('_', '-')}", type=int, default=count)
    parser.add_argument("--only", choices=tuple(SONGS), action="append")
    parser.add_argument("--seconds", type=float, default=0.0, help="cap song length (tests)")
    args = parser.parse_args(argv)
    counts = {s: getattr(args, s) for s in SONGS}
    kits = available_kits()
    if not kits:
        print("no Hydrogen drum kits installed: drums from the soundfonts only", file=sys.stderr)
    todo = [t for t in tasks(counts, kits, args.seconds) if not args.only or t.split in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    index = []
    for task in tqdm(todo, desc="rendering songs", file=sys.stderr):
        done = (args.out / task.split / task.name).exists() or (
            args.out / task.split / f"{task.name}.npy"
        ).exists()
        if done:  # a build that was stopped resumes where it was
            continue
        result = render_task(task)
        if result is None:
            index.append({"name": task.name, "split": task.split, "skipped": True})
            continue
        stems, info = result
        write_song(args.out, task, stems)
        index.append(info)
        with (args.out / "index.jsonl").open("a") as log:
            log.write(json.dumps(info, default=str) + "\n")
    (args.out / "build.json").write_text(json.dumps(build_record(), indent=1) + "\n")
    print(f"rendered {len(index)} songs into {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
