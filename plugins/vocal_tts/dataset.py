"""Training examples in memory: shards from build_data, mels computed once, random crops."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from plugins.vocal_tts.audio import HOP, log_mel
from plugins.vocal_tts.phonemes import Vocabulary


@dataclass
class Item:
    phonemes: np.ndarray  # int64 ids
    durations: np.ndarray  # int64 frames
    f0: np.ndarray  # float32 Hz per frame
    audio: np.ndarray  # float32
    mel: np.ndarray  # float32 (frames, N_MELS), raw log-mel
    speaker: int
    sung: bool


def read_shard(path: Path) -> list[tuple[list[str], np.ndarray, np.ndarray, np.ndarray, int, bool]]:
    data = np.load(path)
    phone_offsets = np.concatenate([[0], np.cumsum(data["phone_counts"])])
    frame_offsets = np.concatenate([[0], np.cumsum(data["frame_counts"])])
    rows = []
    for k in range(len(data["phone_counts"])):
        p0, p1 = phone_offsets[k], phone_offsets[k + 1]
        f0_, f1 = frame_offsets[k], frame_offsets[k + 1]
        rows.append(
            (
                [str(s) for s in data["symbols"][p0:p1]],
                data["durations"][p0:p1].astype(np.int64),
                data["f0"][f0_:f1],
                data["audio"][f0_ * HOP : f1 * HOP].astype(np.float32) / 32767.0,
                int(data["speaker"][k]),
                bool(data["sung"][k]),
            )
        )
    return rows


def symbols_in(paths: list[Path]) -> list[str]:
    found: set[str] = set()
    for path in paths:
        found.update(str(s) for s in np.load(path)["symbols"])
    return sorted(found)


class Corpus:
    """Examples from a growing set of shards (the builder may still be writing more)."""

    def __init__(self, folder: Path, vocabulary: Vocabulary) -> None:
        self.folder = folder
        self.vocabulary = vocabulary
        self.items: list[Item] = []
        self.loaded: set[str] = set()

    def refresh(self) -> int:
        """Load shards that appeared since the last call; returns how many items were added."""
        before = len(self.items)
        for path in sorted(self.folder.glob("shard*.npz")):
            if path.name in self.loaded:
                continue
            try:
                rows = read_shard(path)
            except (OSError, ValueError, KeyError):  # still being written
                continue
            self.loaded.add(path.name)
            for symbols, durations, f0, audio, speaker, sung in rows:
                with torch.no_grad():
                    mel = log_mel(torch.from_numpy(audio)).numpy()
                ids = np.array([self.vocabulary.id(s) for s in symbols], dtype=np.int64)
                self.items.append(Item(ids, durations, f0, audio, mel, speaker, sung))
        return len(self.items) - before


def crop_batch(
    items: list[Item],
    rng: np.random.Generator,
    frames: int,
    mel_mean: np.ndarray,
    mel_std: np.ndarray,
) -> dict[str, torch.Tensor]:
    """Random windows of at most `frames` frames, with the phonemes that overlap them
    (durations clipped to the window), padded into one batch."""
    rows = []
    for item in items:
        total = len(item.f0)
        length = min(frames, total)
        start = int(rng.integers(0, total - length + 1))
        ends = np.cumsum(item.durations)
        starts = ends - item.durations
        keep = (ends > start) & (starts < start + length)
        durations = np.minimum(ends[keep], start + length) - np.maximum(starts[keep], start)
        rows.append(
            (
                item.phonemes[keep],
                durations,
                item.f0[start : start + length],
                (item.mel[start : start + length] - mel_mean) / mel_std,
                item.audio[start * HOP : (start + length) * HOP],
                item.speaker,
            )
        )
    phones = max(len(r[0]) for r in rows)
    length = max(len(r[2]) for r in rows)
    batch = {
        "phonemes": torch.zeros(len(rows), phones, dtype=torch.long),
        "durations": torch.zeros(len(rows), phones, dtype=torch.long),
        "f0": torch.zeros(len(rows), length),
        "mel": torch.zeros(len(rows), length, mel_mean.shape[0]),
        "mask": torch.zeros(len(rows), length),
        "audio": torch.zeros(len(rows), length * HOP),
        "speaker": torch.tensor([r[5] for r in rows]),
    }
    for k, (ids, durations, f0, mel, audio, _) in enumerate(rows):
        batch["phonemes"][k, : len(ids)] = torch.from_numpy(ids)
        batch["durations"][k, : len(ids)] = torch.from_numpy(durations)
        batch["f0"][k, : len(f0)] = torch.from_numpy(f0)
        batch["mel"][k, : len(f0)] = torch.from_numpy(mel)
        batch["mask"][k, : len(f0)] = 1.0
        batch["audio"][k, : len(audio)] = torch.from_numpy(audio)
    return batch
