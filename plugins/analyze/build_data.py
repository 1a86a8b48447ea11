"""Builds the beat-tracking data: generated songs (`songs.py`) in 3/4, 4/4 and 6/8 at 70-180
BPM, with and without drums, rendered with FluidSynth; the beats are known exactly.

    python -m plugins.analyze.build_data [--out data/analyze] [--train 400] [--test 60]

Train songs use the training soundfonts and are stored at 16 kHz mono (int16 .npz with beats
and downbeats in seconds). Test songs use a soundfont never heard in training (TimGM6mb) and
are written as 44.1 kHz stereo WAVs with a JSON of labels beside them, so the evaluation runs
the plugin's whole path (file reading and resampling included). Each song starts at a random
point of its first bar, so the first downbeat is not at time 0.

Two more test sets measure music unlike training, each scored on its own:
`test_fm/`, generated songs rendered with the OPL-3 FM soundfont (synthesised tones, no
samples: another kind of sound), and `test_corpus/`, music21 corpus scores (Bach chorales,
Irish fiddle tunes; another style, `corpus_songs.py`) rendered with TimGM6mb.

    python -m plugins.analyze.build_data --train 0 --test 90 --other 45   # the test sets only
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import soundfile

from plugins.analyze.features import SAMPLE_RATE
from plugins.analyze.songs import MAX_TEMPO, METERS, MIN_TEMPO, BeatSong, make_song
from plugins.separation.stems import HELD_OUT_SOUNDFONT, soundfont_path

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "data" / "analyze"
TRAIN_SOUNDFONTS = ("FluidR3_GM.sf2", "MuseScore_General_Lite.sf3", "sf_GMbank.sf2")
TEST_RATE = 44_100
TRAIN_SECONDS, TEST_SECONDS = 20.0, 30.0
OTHER_SOUNDFONT = "OPL-3_FM_128M.sf2"  # FM synthesis: unlike the sample-based training fonts
# Test folder -> what is unlike training there (the report names it).
TEST_SETS = {
    "test": f"generated songs, {HELD_OUT_SOUNDFONT} (a soundfont held out of training)",
    "test_fm": f"generated songs, {OTHER_SOUNDFONT} (FM synthesis, another kind of sound)",
    "test_corpus": (
        f"music21 scores (Bach chorales, Irish fiddle tunes: another style), {HELD_OUT_SOUNDFONT}"
    ),
}


class Renderer:
    """One FluidSynth renderer per (soundfont, rate), kept for the whole build."""

    def __init__(self) -> None:
        self._renderers: dict[tuple[str, int], object] = {}

    def render(self, song: BeatSong, soundfont: str, rate: int) -> np.ndarray:
        """The mix as stereo float32 (frames, 2)."""
        from plugins.separation.synth import SoundfontRenderer

        key = (soundfont, rate)
        if key not in self._renderers:
            self._renderers[key] = SoundfontRenderer(soundfont_path(soundfont), rate)
        stems = self._renderers[key].render(song.song)  # type: ignore[attr-defined]
        mix = sum(stems.values())
        peak = float(np.max(np.abs(mix))) or 1.0
        return (mix * min(1.0, 0.9 / peak)).astype(np.float32)


def crop(
    song: BeatSong, audio: np.ndarray, rate: int, seconds: float, rng: np.random.Generator
) -> tuple[np.ndarray, dict]:
    """`seconds` of audio from a random point of the first bar, and the labels shifted."""
    bar_seconds = song.beat_seconds * song.meter.beats_per_bar
    offset = float(rng.uniform(0, bar_seconds))
    first = int(round(offset * rate))
    piece = audio[first : first + int(seconds * rate)]
    end = len(piece) / rate
    beats = song.beats() - first / rate
    downbeats = song.downbeats() - first / rate
    labels = {
        "meter": song.meter.name,
        "tempo": song.beat_tempo,
        "drums": song.drums,
        "beats": [round(float(b), 5) for b in beats if 0 <= b < end],
        "downbeats": [round(float(b), 5) for b in downbeats if 0 <= b < end],
        "seconds": end,
    }
    return piece, labels


def plan(count: int, seed: int) -> list[tuple[str, float, bool]]:
    """(meter, tempo, drums) per song: meters and drums cycle so each split is balanced;
    tempos are uniform over 70-180."""
    rng = np.random.default_rng(seed)
    meters = list(METERS)
    return [
        (meters[i % 3], float(rng.uniform(MIN_TEMPO, MAX_TEMPO)), (i // 3) % 2 == 0)
        for i in range(count)
    ]


def write_test_song(
    folder: Path,
    song: BeatSong,
    soundfont: str,
    renderer: Renderer,
    rng: np.random.Generator,
    style: str = "generated",
) -> None:
    """A 44.1 kHz stereo WAV of TEST_SECONDS from a random point of the first bar, and its
    labels as JSON beside it."""
    audio = renderer.render(song, soundfont, TEST_RATE)
    piece, labels = crop(song, audio, TEST_RATE, TEST_SECONDS, rng)
    labels["soundfont"] = soundfont
    labels["style"] = style
    soundfile.write(folder / f"{song.song.name}.wav", piece, TEST_RATE, subtype="FLOAT")
    (folder / f"{song.song.name}.json").write_text(json.dumps(labels))


def write_train_song(
    folder: Path, song: BeatSong, soundfont: str, renderer: Renderer, rng: np.random.Generator
) -> None:
    """TRAIN_SECONDS at 16 kHz mono int16 with the labels, in one .npz (written atomically)."""
    audio = renderer.render(song, soundfont, SAMPLE_RATE)
    piece, labels = crop(song, audio, SAMPLE_RATE, TRAIN_SECONDS, rng)
    pcm = np.clip(piece.mean(axis=1) * 32767, -32768, 32767).astype(np.int16)
    tmp = folder / f".{song.song.name}.npz"
    with open(tmp, "wb") as f:
        np.savez(
            f,
            audio=pcm,
            beats=np.asarray(labels["beats"]),
            downbeats=np.asarray(labels["downbeats"]),
            meter=labels["meter"],
            tempo=labels["tempo"],
            soundfont=soundfont,
        )
    tmp.rename(folder / f"{song.song.name}.npz")


def build_generated(
    folder: Path, split: str, count: int, seconds: float, seed: int, renderer: Renderer
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + 100)
    started = time.monotonic()
    for index, (meter, tempo, drums) in enumerate(plan(count, seed)):
        name = f"{split}-{index:05d}-{meter.replace('/', '')}-{'drums' if drums else 'nodrums'}"
        song = make_song(name, METERS[meter], tempo, seconds + 6, drums, rng)
        if split == "train":
            if not (folder / f"{name}.npz").exists():
                soundfont = TRAIN_SOUNDFONTS[index % len(TRAIN_SOUNDFONTS)]
                write_train_song(folder, song, soundfont, renderer, rng)
        elif not (folder / f"{name}.json").exists():
            soundfont = OTHER_SOUNDFONT if folder.name == "test_fm" else HELD_OUT_SOUNDFONT
            write_test_song(folder, song, soundfont, renderer, rng)
        if index % 20 == 0:
            spent = time.monotonic() - started
            print(f"{folder.name}: {index}/{count} ({spent:.0f} s)", flush=True)


def build_corpus(folder: Path, count: int, seed: int, renderer: Renderer) -> None:
    from plugins.analyze.corpus_songs import corpus_songs

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + 100)
    for index, (style, song) in enumerate(corpus_songs(count, seed)):
        song.song.name = f"corpus-{index:05d}-{song.song.name}"
        if not (folder / f"{song.song.name}.json").exists():
            write_test_song(folder, song, HELD_OUT_SOUNDFONT, renderer, rng, style)
        if index % 10 == 0:
            print(f"{folder.name}: {index}/{count}", flush=True)


def build(out: Path, train: int, test: int, other: int = 0) -> None:
    renderer = Renderer()
    build_generated(out / "test", "test", test, TEST_SECONDS, 2, renderer)
    if other:
        build_generated(out / "test_fm", "fm", other, TEST_SECONDS, 3, renderer)
        build_corpus(out / "test_corpus", other, 4, renderer)
    build_generated(out / "train", "train", train, TRAIN_SECONDS, 1, renderer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--train", type=int, default=400)
    parser.add_argument("--test", type=int, default=60)
    parser.add_argument(
        "--other", type=int, default=0, help="songs in each unlike-training test set"
    )
    args = parser.parse_args(argv)
    build(args.out, args.train, args.test, args.other)
    return 0


if __name__ == "__main__":
    sys.exit(main())
