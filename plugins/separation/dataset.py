"""Training examples from the rendered songs: random excerpts, stems remixed across songs (the
standard augmentation for separation: any drums may play under any vocals), random stem gains,
and (`stem_dropout`) examples in which one to three stems are silent, so the network also
hears sparse mixes (a piano and a bass alone) and learns to leave an absent stem empty.

Songs are (4 stems, 2 channels, samples) float16 arrays at the internal rate (see
build_data.py; data built before stereo was kept is (4 stems, samples), mono). The mask network
trains on the mid channel, the stereo refiner on both.
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


def is_stereo(song: np.ndarray) -> bool:
    return song.ndim == 3


def mid_channel(song: np.ndarray) -> np.ndarray:
    """(stems, samples) float32: what the mask network hears of a stored song."""
    song = song.astype(np.float32)
    return song.mean(axis=1) if is_stereo(song) else song


class ExampleSampler:
    """Draws batches of (mixture, stems) excerpts `frames` STFT frames long: the mid channel,
    or with `stereo` both channels (which needs songs stored in stereo)."""

    def __init__(
        self,
        songs: dict[str, np.ndarray],
        frames: int,
        seed: int = 0,
        remix: float = 0.5,
        gain_db: float = 6.0,
        stereo: bool = False,
        stem_dropout: float = 0.0,
    ) -> None:
        self.songs = [s for s in songs.values() if s.shape[-1] > frames * HOP]
        if not self.songs:
            raise ValueError(f"no song is longer than {frames * HOP} samples")
        if stereo and not all(is_stereo(s) for s in self.songs):
            raise ValueError("stereo examples need songs stored in stereo; rebuild the data")
        self.length = (frames - 1) * HOP
        self.rng = np.random.default_rng(seed)
        self.remix = remix
        self.gain_db = gain_db
        self.stereo = stereo
        if not 0.0 <= stem_dropout <= 1.0:
            raise ValueError(f"stem_dropout is a chance, got {stem_dropout}")
        self.stem_dropout = stem_dropout

    def _dropped(self) -> list[int]:
        """The stems silenced in one example: none, or with chance `stem_dropout` one to three
        of them (as many of each count, which ones at random), so at least one stem plays.
        Draws nothing from the generator when `stem_dropout` is 0, so batches stay as before."""
        if not self.stem_dropout or self.rng.random() >= self.stem_dropout:
            return []
        count = int(self.rng.integers(1, len(STEMS)))
        return sorted(int(s) for s in self.rng.choice(len(STEMS), count, replace=False))

    def _audio(self, song: np.ndarray, stem: int, start: int) -> np.ndarray:
        audio = song[stem, ..., start : start + self.length].astype(np.float32)
        return audio if self.stereo or audio.ndim == 1 else audio.mean(axis=0)

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(size, samples) mixtures and (size, stems, samples) targets; with `stereo`,
        (size, 2, samples) and (size, stems, 2, samples). A silenced stem's target is zeros
        and the mixture is the sum of the stems that play."""
        shape = (2, self.length) if self.stereo else (self.length,)
        stems = np.zeros((size, len(STEMS), *shape), np.float32)
        for b in range(size):
            base = self.songs[int(self.rng.integers(len(self.songs)))]
            start = int(self.rng.integers(0, base.shape[-1] - self.length))
            for s in range(len(STEMS)):
                song, offset = base, start
                if self.rng.random() < self.remix:
                    song = self.songs[int(self.rng.integers(len(self.songs)))]
                    offset = int(self.rng.integers(0, song.shape[-1] - self.length))
                gain = 10 ** (self.rng.uniform(-self.gain_db, self.gain_db) / 20)
                stems[b, s] = self._audio(song, s, offset) * gain
            dropped = self._dropped()
            kept = [s for s in range(len(STEMS)) if s not in dropped]
            if dropped and np.any(stems[b, kept]):  # a silent mixture teaches nothing
                stems[b, dropped] = 0.0
        targets = torch.from_numpy(stems)
        return targets.sum(dim=1), targets
