"""The transcription network: a small fully convolutional net of the basic-pitch /
Onsets-and-Frames family. Convolutions over (time, log-frequency) on the harmonic stack, a
stride-3 step onto the 88 keys, dilated convolutions along time for context, and three heads:
onset, frame (which also sees the onset head, as in Onsets and Frames) and velocity.

Everything is convolutional along pitch, so a pattern learnt on one key transfers to the
others: with an hour of one CPU core there is no budget for a per-key dense layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from plugins.transcribe.features import BINS_PER_SEMITONE, HARMONICS


@dataclass(frozen=True)
class NetConfig:
    stem_channels: int = 16
    key_channels: int = 32
    octave_kernel: int = 13  # keys seen at once after the stride step (an octave and one)
    dilations: tuple[int, ...] = (1, 2, 4, 8)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _conv(cin: int, cout: int, kernel: tuple[int, int], dilation: int = 1) -> nn.Sequential:
    pad = ((kernel[0] - 1) // 2 * dilation, (kernel[1] - 1) // 2)
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, padding=pad, dilation=(dilation, 1)),
        nn.BatchNorm2d(cout),
        nn.ReLU(),
    )


class TranscriptionNet(nn.Module):
    """(batch, harmonics, frames, bins) features -> logits (batch, frames, 88) for onset and
    frame, and velocity in 0..1 (batch, frames, 88)."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        s, k = config.stem_channels, config.key_channels
        self.stem = nn.Sequential(
            _conv(len(HARMONICS), s, (3, 3)),
            _conv(s, s, (3, 3)),
        )
        self.to_keys = nn.Sequential(
            nn.Conv2d(s, k, (1, BINS_PER_SEMITONE), stride=(1, BINS_PER_SEMITONE)),
            nn.BatchNorm2d(k),
            nn.ReLU(),
            _conv(k, k, (1, config.octave_kernel)),
        )
        self.context = nn.ModuleList(_conv(k, k, (3, 3), d) for d in config.dilations)
        self.onset_head = nn.Sequential(
            _conv(k, k // 2, (3, 3)), nn.Conv2d(k // 2, 1, (3, 3), padding=1)
        )
        self.velocity_head = nn.Sequential(
            _conv(k, k // 2, (3, 3)), nn.Conv2d(k // 2, 1, (3, 3), padding=1)
        )
        self.frame_head = nn.Sequential(
            _conv(k + 1, k // 2, (3, 3)), nn.Conv2d(k // 2, 1, (3, 3), padding=1)
        )

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.to_keys(self.stem(features))  # (B, k, T, 88)
        for layer in self.context:
            x = x + layer(x)
        onset = self.onset_head(x)
        velocity = torch.sigmoid(self.velocity_head(x))
        frame = self.frame_head(torch.cat([x, torch.sigmoid(onset).detach()], dim=1))
        return onset[:, 0], frame[:, 0], velocity[:, 0]
