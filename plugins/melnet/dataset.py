"""Rendered clips on disk -> tensors: spectrogram crops with their note features.

Used by training (random crops of training pieces) and evaluation (fixed crops of test pieces).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from plugins.melnet.conditioning import FRAME_SECONDS, INSTRUMENTS, note_features

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "data" / "melnet"


@dataclass
class Clip:
    name: str
    piece: str
    instrument: int
    mel: np.ndarray  # (frames, bins), model units
    notes: np.ndarray  # (n, 4): pitch, velocity, start_s, end_s


def load_clips(root: Path, split: str) -> list[Clip]:
    """All clips of one split ("train" or "test") listed in root/index.json."""
    index_path = root / "index.json"
    if not index_path.is_file():
        raise FileNotFoundError(
            f"{index_path} not found; build the data first: python -m plugins.melnet.build_data"
        )
    clips = []
    for entry in json.loads(index_path.read_text()):
        if entry["split"] != split:
            continue
        with np.load(root / "clips" / f"{entry['clip']}.npz") as data:
            clips.append(
                Clip(
                    entry["clip"],
                    entry["piece"],
                    INSTRUMENTS.index(entry["instrument"]),
                    data["mel"].astype(np.float32),
                    data["notes"],
                )
            )
    return clips


@dataclass
class Batch:
    spec: torch.Tensor  # (B, T, F)
    bin_feats: torch.Tensor  # (B, T, F, C)
    frame_feats: torch.Tensor  # (B, T, D)
    instrument: torch.Tensor  # (B,)


def crop(clip: Clip, start: int, frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spectrogram and note features of `frames` frames of `clip` from frame `start`."""
    notes = clip.notes.copy()
    notes[:, 2:4] -= start * FRAME_SECONDS
    bins, frame_feats = note_features(notes, frames)
    return clip.mel[start : start + frames], bins, frame_feats


def make_batch(items: list[tuple[Clip, int]], frames: int) -> Batch:
    specs, bins, frame_feats = zip(
        *(crop(clip, start, frames) for clip, start in items), strict=True
    )
    return Batch(
        torch.from_numpy(np.stack(specs)),
        torch.from_numpy(np.stack(bins)),
        torch.from_numpy(np.stack(frame_feats)),
        torch.tensor([clip.instrument for clip, _ in items]),
    )


def random_batch(clips: list[Clip], size: int, frames: int, rng: random.Random) -> Batch:
    items = []
    for clip in rng.choices(clips, k=size):
        start = rng.randrange(max(1, clip.mel.shape[0] - frames + 1))
        items.append((clip, start))
    return make_batch(items, frames)


def fixed_crops(clips: list[Clip], frames: int) -> list[tuple[Clip, int]]:
    """Non-overlapping crops of every clip, in order: the same test set on every run."""
    return [
        (clip, start)
        for clip in clips
        for start in range(0, clip.mel.shape[0] - frames + 1, frames)
    ]
