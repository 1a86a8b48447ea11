"""Training examples from the rendered songs: random excerpts, stems remixed across songs (the
standard augmentation for separation: any drums may play under any vocals), random stem gains.

Songs are (4 stems, samples) float16 arrays at the internal rate (see build_data.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from plugins.separation.stems import HOP, STEMS


def load_songs(folder: Path) -> dict[str, np.ndarray]:
    """Every song in `folder` (name -> array), skipping files still being written."""
    songs = {}
    for path in sorted(folder.glob("*.npy")):
        try:
            songs[path.stem] = np.load(path)
        except (ValueError, OSError, EOFError):
            continue  # a file the builder has not finished writing
    return songs


class ExampleSampler:
    """Draws batches of (mixture, stems) excerpts `frames` STFT frames long."""

    def __init__(
        self,
        songs: dict[str, np.ndarray],
        frames: int,
        seed: int = 0,
        remix: float = 0.5,
        gain_db: float = 6.0,
    ) -> None:
        self.songs = [s for s in songs.values() if s.shape[1] > frames * HOP]
        if not self.songs:
            raise ValueError(f"no song is longer than {frames * HOP} samples")
        self.length = (frames - 1) * HOP
        self.rng = np.random.default_rng(seed)
        self.remix = remix
        self.gain_db = gain_db

    def _excerpt(self, song: np.ndarray, stem: int) -> np.ndarray:
        start = int(self.rng.integers(0, song.shape[1] - self.length))
        return song[stem, start : start + self.length].astype(np.float32)

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(size, samples) mixtures and (size, stems, samples) targets."""
        stems = np.zeros((size, len(STEMS), self.length), np.float32)
        for b in range(size):
            base = self.songs[int(self.rng.integers(len(self.songs)))]
            start = int(self.rng.integers(0, base.shape[1] - self.length))
            for s in range(len(STEMS)):
                if self.rng.random() < self.remix:
                    audio = self._excerpt(self.songs[int(self.rng.integers(len(self.songs)))], s)
                else:
                    audio = base[s, start : start + self.length].astype(np.float32)
                gain = 10 ** (self.rng.uniform(-self.gain_db, self.gain_db) / 20)
                stems[b, s] = audio * gain
        targets = torch.from_numpy(stems)
        return targets.sum(dim=1), targets
