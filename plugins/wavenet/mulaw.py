"""mu-law companding (ITU G.711 curve, mu = 255) to and from 256 classes."""

from __future__ import annotations

import math

import torch

CLASSES = 256
MU = CLASSES - 1


def encode(audio: torch.Tensor) -> torch.Tensor:
    """Audio in [-1, 1] -> class indices 0..255 (long)."""
    x = audio.clamp(-1.0, 1.0)
    companded = torch.sign(x) * torch.log1p(MU * x.abs()) / math.log1p(MU)
    return ((companded + 1) / 2 * MU + 0.5).floor().long().clamp(0, MU)


def decode(classes: torch.Tensor) -> torch.Tensor:
    """Class indices -> audio in [-1, 1] (the centre of each class's interval)."""
    companded = classes.to(torch.float32) / MU * 2 - 1
    return torch.sign(companded) * ((1 + MU) ** companded.abs() - 1) / MU
