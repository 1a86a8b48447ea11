"""Builds the transcription data: music21 corpus windows and generated melodies and
accompaniments rendered with FluidSynth (labels are the MIDI notes, so they are exact), and
optionally lines sung by dawhost's own vocal-tts.

    python -m plugins.transcribe.build_data [--out data/transcribe] [--train 1200] [--test 120]
    python -m plugins.transcribe.build_data --sung 60      # add vocal-tts lines to both splits

Train clips use the two training soundfonts and are stored at 16 kHz mono (int16 .npz with the
notes in seconds). Test clips use a soundfont never heard in training (TimGM6mb) and corpus
pieces from the music-transformer's test split; they are written as 44.1 kHz stereo WAVs with
a JSON of notes beside them, so the evaluation runs the plugin's whole path (file reading and
resampling included).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import soundfile

from host.progress import track
from plugins.separation.arrangement import Part, Song
from plugins.separation.stems import HELD_OUT_SOUNDFONT, TRAIN_SOUNDFONTS, soundfont_path
from plugins.transcribe.features import SAMPLE_RATE
from plugins.transcribe.material import (
    Clip,
    corpus_clip,
    corpus_pieces,
    generated_accompaniment,
    generated_melody,
    piece_split,
)

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "data" / "transcribe"
TEST_RATE = 44_100
TRAIN_SECONDS, TEST_SECONDS = 8.0, 10.0
# music21 collection -> files to parse (Ryan's Mammoth and Essen files hold many tunes each)
COLLECTIONS = {"bach": 160, "palestrina": 40, "ryansMammoth": 6, "essenFolksong": 2}
# Share of clips per source (the rest of each split is split evenly between these)
SOURCES = ("chorale", "chorale_melody", "folk", "melody", "accompaniment")


class Renderer:
    """One FluidSynth renderer per (soundfont, rate), kept for the whole build."""

    def __init__(self) -> None:
        self._renderers: dict[tuple[str, int], object] = {}

    def render(self, clip: Clip, soundfont: str, rate: int, rng: np.random.Generator) -> np.ndarray:
        """Stereo float32 (frames, 2) at -20 dBFS RMS, with a second of release tail."""
        from plugins.separation.synth import SoundfontRenderer

        key = (soundfont, rate)
        if key not in self._renderers:
            self._renderers[key] = SoundfontRenderer(soundfont_path(soundfont), rate)
        renderer = self._renderers[key]
        part = Part("other", clip.program, clip.events, reverb=int(rng.integers(0, 90)))
        song = Song(clip.name, clip.tempo, clip.beats, [part], {"other": 0.0})
        return renderer.render(song)["other"]  # type: ignore[attr-defined]


def make_clips(split: str, count: int, seconds: float, pieces: list, seed: int) -> list[Clip]:
    """`count` clips for `split`, cycling through SOURCES; corpus clips only from pieces of
    the matching music-transformer split (test -> test, train -> train and valid)."""
    rng = np.random.default_rng(seed)
    wanted = ("test",) if split == "test" else ("train", "valid")
    mine = [p for p in pieces if piece_split(p[0]) in wanted]
    by_kind = {
        "chorale": [p for p in mine if not p[2]],
        "folk": [p for p in mine if p[2]],
    }
    clips: list[Clip] = []
    attempts = 0
    while len(clips) < count and attempts < count * 5:
        attempts += 1
        source = SOURCES[len(clips) % len(SOURCES)]
        name = f"{split}-{len(clips):05d}-{source}"
        if source == "melody":
            clip: Clip | None = generated_melody(name, seconds, rng)
        elif source == "accompaniment":
            clip = generated_accompaniment(name, seconds, rng)
        else:
            pool = by_kind["folk" if source == "folk" else "chorale"]
            if not pool:
                pool = by_kind["chorale"] or by_kind["folk"]
            if not pool:
                clip = generated_melody(name, seconds, rng)
            else:
                piece_id, notes, mono = pool[int(rng.integers(len(pool)))]
                clip = corpus_clip(
                    name, notes, mono, seconds, rng, melody_only=source == "chorale_melody"
                )
        if clip is not None and clip.events and clip.seconds <= seconds + 4:
            clips.append(clip)
    return clips


def write_train(clip: Clip, audio: np.ndarray, folder: Path, soundfont: str) -> None:
    mono = audio.mean(axis=1)
    pcm = np.clip(mono * 32767, -32768, 32767).astype(np.int16)
    tmp = folder / f".{clip.name}.npz"
    with open(tmp, "wb") as f:
        np.savez(
            f,
            audio=pcm,
            notes=clip.notes_seconds(),
            kind=clip.kind,
            program=clip.program,
            soundfont=soundfont,
        )
    tmp.rename(folder / f"{clip.name}.npz")


def write_test(clip: Clip, audio: np.ndarray, folder: Path, soundfont: str) -> None:
    soundfile.write(folder / f"{clip.name}.wav", audio, TEST_RATE, subtype="FLOAT")
    labels = {
        "kind": clip.kind,
        "program": clip.program,
        "soundfont": soundfont,
        "tempo": clip.tempo,
        "notes": clip.notes_seconds().tolist(),
    }
    (folder / f"{clip.name}.json").write_text(json.dumps(labels))


def build(out: Path, train: int, test: int, parse_seconds: float) -> None:
    started = time.monotonic()
    pieces = corpus_pieces(COLLECTIONS, parse_seconds)
    print(f"parsed {len(pieces)} corpus pieces in {time.monotonic() - started:.0f} s", flush=True)
    renderer = Renderer()
    for split, count, seconds, seed in (
        ("test", test, TEST_SECONDS, 2),
        ("train", train, TRAIN_SECONDS, 1),
    ):
        folder = out / split
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(seed + 100)
        clips = track(make_clips(split, count, seconds, pieces, seed), f"{split} clips", count)
        for index, clip in enumerate(clips):
            if split == "test":
                if (folder / f"{clip.name}.json").exists():
                    continue
                audio = renderer.render(clip, HELD_OUT_SOUNDFONT, TEST_RATE, rng)
                write_test(clip, audio, folder, HELD_OUT_SOUNDFONT)
            else:
                if (folder / f"{clip.name}.npz").exists():
                    continue
                soundfont = TRAIN_SOUNDFONTS[index % len(TRAIN_SOUNDFONTS)]
                audio = renderer.render(clip, soundfont, SAMPLE_RATE, rng)
                write_train(clip, audio, folder, soundfont)


def build_sung(out: Path, count: int, seed: int = 7) -> None:
    """Lines sung by vocal-tts (its shipped checkpoint): generated melodies in a voice's range
    with made-up one-syllable words. A fifth go to the test split, the rest to train."""
    from plugins.separation.sung import fit_to_voice, sung_melody
    from plugins.vocal_tts.melody import VOICE_RANGE

    rng = np.random.default_rng(seed)
    started = time.monotonic()
    for index in range(count):
        split = "test" if index % 5 == 0 else "train"
        folder = out / split
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{split}-sung-{index:04d}"
        clip = generated_melody(name, 8.0, rng)
        voice, shift = fit_to_voice([e.pitch for e in clip.events])
        low, high = VOICE_RANGE[voice]
        events = [
            type(e)(e.start, e.duration, e.pitch + shift, e.velocity)
            for e in clip.events
            if low <= e.pitch + shift <= high
        ]
        if len(events) < 4:
            continue
        tempo = clip.tempo
        beats = max(e.start + e.duration for e in events)
        song = Song(name, tempo, beats, [Part("vocals", 52, events)], {})
        rate = TEST_RATE if split == "test" else SAMPLE_RATE
        frames = int(math.ceil((song.seconds + 1.0) * rate))
        audio = sung_melody(song, 4.0, rate, frames, rng)
        if audio is None:
            continue
        audio = audio * (0.1 / max(1e-6, float(np.sqrt(np.mean(audio**2)))))
        sung = Clip(name, "sung", -1, tempo, events)
        if split == "test":
            write_test(sung, np.stack([audio, audio], axis=1), folder, "vocal-tts")
        else:
            write_train(sung, np.stack([audio, audio], axis=1), folder, "vocal-tts")
        print(f"sung {index + 1}/{count} ({time.monotonic() - started:.0f} s)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--train", type=int, default=1200)
    parser.add_argument("--test", type=int, default=120)
    parser.add_argument("--parse-seconds", type=float, default=240.0)
    parser.add_argument("--sung", type=int, default=0, help="only add N vocal-tts lines")
    args = parser.parse_args(argv)
    if args.sung:
        build_sung(args.out, args.sung)
    else:
        build(args.out, args.train, args.test, args.parse_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
