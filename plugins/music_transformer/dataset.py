"""Training and evaluation sequences from corpus pieces: beats -> seconds -> event windows.

Training windows are random crops with augmentation (transposition, tempo stretch) and the
style token dropped to "any" one time in ten, so unconditioned requests work too. Evaluation
windows are fixed: every test piece, untransposed at its own tempo, cut into consecutive
windows, so every model is scored on exactly the same events.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import torch

from plugins.music_transformer.corpus import Piece
from plugins.music_transformer.events import END, PAD, TimedNote, encode, style_token

TRANSPOSE = (-5, 6)  # semitones, inclusive
STRETCH = (0.85, 1.15)  # tempo factor
STYLE_DROPOUT = 0.1


def piece_notes(piece: Piece, transpose: int = 0, stretch: float = 1.0) -> list[TimedNote]:
    seconds_per_beat = 60.0 / (piece.bpm * stretch)
    low, high = int(piece.notes[:, 0].min()), int(piece.notes[:, 0].max())
    transpose = max(-low, min(127 - high, transpose))
    return [
        TimedNote(
            int(p) + transpose, int(v), float(s) * seconds_per_beat, float(d) * seconds_per_beat
        )
        for p, v, s, d in piece.notes
    ]


def piece_tokens(piece: Piece, transpose: int = 0, stretch: float = 1.0) -> list[int]:
    return encode(piece_notes(piece, transpose, stretch)) + [END]


class TrainingSampler:
    """Random augmented windows of `length` tokens (style token first), padded with PAD."""

    def __init__(self, pieces: Sequence[Piece], length: int, seed: int):
        if not pieces:
            raise ValueError("no training pieces")
        self.pieces = list(pieces)
        self.weights = [min(len(p.notes), 2000) for p in self.pieces]
        self.length = length
        self.rng = random.Random(seed)

    def window(self) -> list[int]:
        piece = self.rng.choices(self.pieces, self.weights)[0]
        tokens = piece_tokens(piece, self.rng.randint(*TRANSPOSE), self.rng.uniform(*STRETCH))
        body = self.length - 1
        start = self.rng.randrange(max(1, len(tokens) - body + 1))
        style = "any" if self.rng.random() < STYLE_DROPOUT else piece.style
        window = [style_token(style)] + tokens[start : start + body]
        return window + [PAD] * (self.length - len(window))

    def batch(self, size: int) -> torch.Tensor:
        return torch.tensor([self.window() for _ in range(size)], dtype=torch.long)

    def state(self) -> object:
        return self.rng.getstate()

    def restore(self, state: object) -> None:
        self.rng.setstate(state)  # type: ignore[arg-type]


def evaluation_windows(
    pieces: Sequence[Piece], length: int, limit: int | None = None
) -> torch.Tensor:
    """Consecutive windows of every piece, no augmentation: (n, length), PAD-filled."""
    windows = []
    body = length - 1
    for piece in pieces:
        tokens = piece_tokens(piece)
        for start in range(0, len(tokens), body):
            chunk = [style_token(piece.style)] + tokens[start : start + body]
            if len(chunk) > 8:
                windows.append(chunk + [PAD] * (length - len(chunk)))
    array = np.array(windows, dtype=np.int64).reshape(-1, length)
    if limit is not None and len(array) > limit:
        # A fixed, spread-out subset (for quick validation during training).
        array = array[np.linspace(0, len(array) - 1, limit).astype(int)]
    return torch.from_numpy(array)
