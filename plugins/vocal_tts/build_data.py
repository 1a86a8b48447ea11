"""Build the vocal_tts training set: espeak-ng speech plus WORLD-sung versions, as npz shards.

Recipe: every train/validation sentence of `corpus.sentences()` is spoken once by espeak-ng
with a random voice (male en-us or female en-us+f2), rate 120-220 wpm, pitch 30-70 and range
30-80, and sung `--sung` times on random melodies (0.12-1.2 s notes, steps up to a fifth,
20 % rests, 40 % with vibrato). Usage: python -m plugins.vocal_tts.build_data [--limit N].
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from plugins.vocal_tts.audio import HOP
from plugins.vocal_tts.corpus import sentences, split
from plugins.vocal_tts.espeak import speak
from plugins.vocal_tts.teacher import (
    VOICES,
    Example,
    spoken_example,
    sung_example,
    world_analysis,
)

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "vocal_tts"
SPEAKERS = list(VOICES)


def _pack(examples: list[Example]) -> dict[str, np.ndarray]:
    """Ragged examples flattened into arrays with offsets (npz cannot hold lists)."""
    phone_counts = np.array([len(e.symbols) for e in examples])
    frame_counts = np.array([len(e.f0) for e in examples])
    return {
        "symbols": np.array([s for e in examples for s in e.symbols]),
        "durations": np.concatenate([e.durations for e in examples]).astype(np.int32),
        "phone_counts": phone_counts,
        "f0": np.concatenate([e.f0 for e in examples]).astype(np.float32),
        "frame_counts": frame_counts,
        "audio": np.concatenate([np.clip(e.audio, -1, 1) * 32767 for e in examples]).astype(
            np.int16
        ),
        "speaker": np.array([e.speaker for e in examples]),
        "sung": np.array([e.sung for e in examples]),
    }


def build(
    texts: Sequence[str], out: Path, sung_per_sentence: int, seed: int, shard_size: int = 100
) -> int:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shard: list[Example] = []
    count = shard_index = 0
    for text in tqdm(texts, desc=out.name, unit="sentence"):
        voice = SPEAKERS[int(rng.integers(len(SPEAKERS)))]
        utterance = speak(
            text,
            VOICES[voice],
            int(rng.integers(120, 221)),
            int(rng.integers(30, 71)),
            int(rng.integers(30, 81)),
        )
        if len(utterance.phones) < 2:
            continue
        speaker = SPEAKERS.index(voice)
        shard.append(spoken_example(utterance, speaker))
        frames = len(utterance.audio) // HOP
        analysis = world_analysis(utterance.audio[: frames * HOP], frames)
        for _ in range(sung_per_sentence):
            example = sung_example(utterance, text, voice, speaker, rng, analysis)
            if example is not None:
                shard.append(example)
        if len(shard) >= shard_size:
            _write(out / f"shard{shard_index:03d}.npz", shard)
            count, shard_index, shard = count + len(shard), shard_index + 1, []
    if shard:
        _write(out / f"shard{shard_index:03d}.npz", shard)
        count += len(shard)
    return count


def _write(path: Path, examples: list[Example]) -> None:
    """Write then rename, so a trainer reading the folder never sees half a shard."""
    temporary = path.with_name("partial-" + path.name)
    np.savez(temporary, **_pack(examples))  # type: ignore[arg-type]
    os.replace(temporary, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N sentences")
    parser.add_argument("--sung", type=int, default=1, help="sung versions per sentence")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    started = time.time()
    parts = split(sentences())
    counts = {}
    for name in ("validation", "train"):
        texts = parts[name][: args.limit] if args.limit else parts[name]
        counts[name] = build(texts, args.out / name, args.sung, args.seed + len(name))
    (args.out / "recipe.json").write_text(
        json.dumps(
            {
                "examples": counts,
                "sentences": {k: len(v) for k, v in parts.items()},
                "sung_per_sentence": args.sung,
                "seed": args.seed,
                "voices": VOICES,
                "seconds": round(time.time() - started, 1),
            },
            indent=2,
        )
    )
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
