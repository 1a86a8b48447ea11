"""Builds the beat-tracking data: generated songs (`songs.py`) in 3/4, 4/4 and 6/8 at 70-180
BPM, with and without drums, rendered with FluidSynth; the beats are known exactly.

    python -m plugins.analyze.build_data [--out data/analyze] [--train 400] [--test 60]

Train songs use the training soundfonts and are stored at 16 kHz mono (int16 .npz with beats
and downbeats in seconds). Test songs use a soundfont never heard in training (TimGM6mb) and
are written as 44.1 kHz stereo WAVs with a JSON of labels beside them, so the evaluation runs
the plugin's whole path (file reading and resampling included). Each song starts at a random
point of its first bar, so the first downbeat is not at time 0.
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


def build(out: Path, train: int, test: int) -> None:
    started = time.monotonic()
    renderer = Renderer()
    for split, count, seconds, seed in (
        ("test", test, TEST_SECONDS, 2),
        ("train", train, TRAIN_SECONDS, 1),
    ):
        folder = out / split
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(seed + 100)
        for index, (meter, tempo, drums) in enumerate(plan(count, seed)):
            name = f"{split}-{index:05d}-{meter.replace('/', '')}-{'drums' if drums else 'nodrums'}"
            song = make_song(name, METERS[meter], tempo, seconds + 6, drums, rng)
            done = folder / (f"{name}.json" if split == "test" else f"{name}.npz")
            if done.exists():
                continue
            if split == "test":
                audio = renderer.render(song, HELD_OUT_SOUNDFONT, TEST_RATE)
                piece, labels = crop(song, audio, TEST_RATE, seconds, rng)
                labels["soundfont"] = HELD_OUT_SOUNDFONT
                soundfile.write(folder / f"{name}.wav", piece, TEST_RATE, subtype="FLOAT")
                done.write_text(json.dumps(labels))
            else:
                soundfont = TRAIN_SOUNDFONTS[index % len(TRAIN_SOUNDFONTS)]
                audio = renderer.render(song, soundfont, SAMPLE_RATE)
                piece, labels = crop(song, audio, SAMPLE_RATE, seconds, rng)
                pcm = np.clip(piece.mean(axis=1) * 32767, -32768, 32767).astype(np.int16)
                tmp = folder / f".{name}.npz"
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
                tmp.rename(done)
            if index % 20 == 0:
                print(f"{split}: {index}/{count} ({time.monotonic() - started:.0f} s)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--train", type=int, default=400)
    parser.add_argument("--test", type=int, default=60)
    args = parser.parse_args(argv)
    build(args.out, args.train, args.test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
