"""Build the vocal_tts training set: teacher speech plus WORLD-sung versions, as npz shards.

Recipe: every train/validation sentence of `corpus.sentences()` is spoken once, by a teacher
voice drawn at random from `--voices` (default all of voices.VOICE_TABLE: espeak-ng male and
female, Festival HTS slt, flite slt/rms/awb/kal16), at a random rate of 120-220 wpm (espeak-ng
also pitch 30-70 and range 30-80; the others keep their own intonation), levelled to -20 dBFS
RMS, and sung `--sung` times on random melodies in the voice's register (0.12-1.2 s notes,
steps up to a fifth, 20 % rests, 40 % with vibrato): WORLD (pyworld) analyses the speech and
resynthesises it along the timing plan at the melody's pitch.
Usage: python -m plugins.vocal_tts.build_data [--limit N] [--voices a,b]
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
from plugins.vocal_tts.espeak import Utterance
from plugins.vocal_tts.teacher import VOICES, Example, spoken_example, sung_example, world_analysis
from plugins.vocal_tts.teachers import speak_many
from plugins.vocal_tts.voices import VOICE_NAMES, VOICE_TABLE, speaker_of

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "vocal_tts"
SPEAKERS = list(VOICES)  # the espeak-ng voices (other plugins draw their voice data from these)
BLOCK = 60  # sentences per block: each Festival voice is one process per block


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


def _spoken(
    texts: Sequence[str], voices: Sequence[str], rng: np.random.Generator
) -> list[tuple[str, str, Utterance]]:
    """(text, voice, utterance) for each text, each with a random voice and speaking rate."""
    chosen = [voices[int(rng.integers(len(voices)))] for _ in texts]
    rates = rng.integers(120, 221, size=len(texts))
    pitches, ranges = rng.integers(30, 71, size=len(texts)), rng.integers(30, 81, size=len(texts))
    out: dict[int, Utterance] = {}
    for voice in dict.fromkeys(chosen):
        picks = [k for k, v in enumerate(chosen) if v == voice]
        if VOICE_TABLE[voice].engine == "espeak-ng":  # rate, pitch and range per sentence
            for k in picks:
                out[k] = speak_many(
                    [texts[k]], voice, int(rates[k]), int(pitches[k]), int(ranges[k])
                )[0]
        else:  # one rate per block: Festival speaks a block in one process
            rate = int(rates[picks[0]])
            for k, utterance in zip(
                picks, speak_many([texts[k] for k in picks], voice, rate), strict=True
            ):
                out[k] = utterance
    return [(texts[k], chosen[k], out[k]) for k in range(len(texts))]


def build(
    texts: Sequence[str],
    out: Path,
    sung_per_sentence: int,
    seed: int,
    shard_size: int = 100,
    voices: Sequence[str] = VOICE_NAMES,
) -> int:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shard: list[Example] = []
    count = shard_index = 0
    progress = tqdm(total=len(texts), desc=out.name, unit="sentence")
    for first in range(0, len(texts), BLOCK):
        for text, voice, utterance in _spoken(texts[first : first + BLOCK], voices, rng):
            progress.update(1)
            if len(utterance.phones) < 2:
                continue
            speaker = speaker_of(voice)
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
    progress.close()
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
    parser.add_argument(
        "--voices", default=",".join(VOICE_NAMES), help="comma-separated teacher voices"
    )
    args = parser.parse_args(argv)
    voices = [v for v in args.voices.split(",") if v]
    unknown = sorted(set(voices) - set(VOICE_NAMES))
    if unknown:
        parser.error(f"unknown voices {unknown}; choose from {', '.join(VOICE_NAMES)}")
    started = time.time()
    parts = split(sentences())
    counts = {}
    for name in ("validation", "train"):
        texts = parts[name][: args.limit] if args.limit else parts[name]
        counts[name] = build(
            texts, args.out / name, args.sung, args.seed + len(name), voices=voices
        )
    (args.out / "recipe.json").write_text(
        json.dumps(
            {
                "examples": counts,
                "sentences": {k: len(v) for k, v in parts.items()},
                "sung_per_sentence": args.sung,
                "seed": args.seed,
                "voices": {v: VOICE_TABLE[v].description for v in voices},
                "speakers": {v: speaker_of(v) for v in voices},
                "seconds": round(time.time() - started, 1),
            },
            indent=2,
        )
    )
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
