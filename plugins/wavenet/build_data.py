"""Build the WaveNet training audio: a small slice of what vocal-tts and melnet train on.

- voice: espeak-ng sentences of the vocal-tts corpus, spoken and WORLD-sung on random melodies,
  made by vocal-tts's own teacher (`plugins.vocal_tts.teacher`), train/test split by sentence.
- music: FluidSynth renders of melnet's generated pieces (`plugins.melnet.corpus`), one random
  instrument per piece, train/test split by melnet's piece hash.
Only audio is stored (16 kHz int16 in npz shards); mels are computed by the trainer with each
plugin's own front-end, so a change there cannot go stale here.
Usage: python -m plugins.wavenet.build_data [--sentences N] [--pieces N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "wavenet"


Parts = dict[str, tuple[list[np.ndarray], list[str], list[np.ndarray]]]


def _save(path: Path, clips: list[np.ndarray], names: list[str], f0: list[np.ndarray]) -> None:
    """Ragged clips in one npz: concatenated int16 with lengths (and each voice clip's f0 per
    10 ms frame, which the harmonic vocoder needs and the pitch figure scores against)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name("partial-" + path.name)
    with open(temporary, "wb") as handle:
        np.savez(
            handle,
            audio=np.concatenate([np.clip(c, -1, 1) * 32767 for c in clips]).astype(np.int16),
            lengths=np.array([len(c) for c in clips]),
            names=np.array(names),
            f0=np.concatenate(f0 or [np.zeros(0)]).astype(np.float32),
            f0_lengths=np.array([len(f) for f in f0], dtype=np.int64),
        )
    os.replace(temporary, path)


def voice_clips(count: int, seed: int) -> Parts:
    from plugins.vocal_tts.audio import HOP
    from plugins.vocal_tts.build_data import SPEAKERS
    from plugins.vocal_tts.corpus import sentences, split_of
    from plugins.vocal_tts.espeak import speak
    from plugins.vocal_tts.pitch import analyse_f0
    from plugins.vocal_tts.teacher import VOICES, sung_example, world_analysis

    rng = np.random.default_rng(seed)
    texts = sentences()
    order = rng.permutation(len(texts))
    out: Parts = {"train": ([], [], []), "test": ([], [], [])}
    wanted = {"train": count, "test": max(4, count // 10)}
    progress = tqdm(total=sum(wanted.values()), desc="voice", unit="sentence")
    for k in order:
        text = texts[int(k)]
        part = "test" if split_of(text) == "test" else "train"
        if len(out[part][0]) >= wanted[part]:
            if all(len(out[p][0]) >= wanted[p] for p in out):
                break
            continue
        voice = SPEAKERS[int(rng.integers(len(SPEAKERS)))]
        utterance = speak(text, VOICES[voice], int(rng.integers(120, 221)), 50, 50)
        if len(utterance.phones) < 2:
            continue
        frames = len(utterance.audio) // HOP
        out[part][0].append(utterance.audio[: frames * HOP].astype(np.float32))
        out[part][1].append(f"spoken:{voice}:{text}")
        out[part][2].append(analyse_f0(utterance.audio[: frames * HOP], frames))
        example = sung_example(
            utterance,
            text,
            voice,
            SPEAKERS.index(voice),
            rng,
            world_analysis(utterance.audio[: frames * HOP], frames),
        )
        if example is not None:
            out[part][0].append(example.audio.astype(np.float32))
            out[part][1].append(f"sung:{voice}:{text}")
            out[part][2].append(example.f0)
        progress.update(1)
    progress.close()
    return out


def music_clips(count: int, seed: int) -> Parts:
    from plugins.melnet.build_data import clip_notes, fluidsynth_render
    from plugins.melnet.conditioning import INSTRUMENTS
    from plugins.melnet.corpus import generated_piece

    rng = random.Random(seed)
    out: Parts = {"train": ([], [], []), "test": ([], [], [])}
    for i in tqdm(range(count), desc="music", unit="piece"):
        piece = generated_piece(i)
        instrument = rng.choice(INSTRUMENTS)
        notes, seconds = clip_notes(piece, instrument, rng)
        if len(notes) < 3:
            continue
        part = "test" if piece.split == "test" else "train"
        out[part][0].append(fluidsynth_render(notes, instrument, seconds).astype(np.float32))
        out[part][1].append(f"{instrument}:{piece.piece_id}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    parser.add_argument(
        "--sentences", type=int, default=400, help="training voice clips (spoken + sung)"
    )
    parser.add_argument("--pieces", type=int, default=160, help="generated pieces rendered")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    summary = {}
    for kind, make, count in (
        ("music", music_clips, args.pieces),
        ("voice", voice_clips, args.sentences),
    ):
        for part, (clips, names, f0) in make(count, args.seed).items():
            _save(args.out / f"{kind}_{part}.npz", clips, names, f0)
            summary[f"{kind}_{part}"] = {
                "clips": len(clips),
                "seconds": round(sum(len(c) for c in clips) / 16_000, 1),
            }
    (args.out / "recipe.json").write_text(
        json.dumps({**vars(args), "out": str(args.out), "parts": summary}, indent=2)
    )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
