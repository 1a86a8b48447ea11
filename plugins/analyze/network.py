"""The beat network: a temporal convolutional network (TCN) in the manner of Davies & Böck
2019 and Böck & Davies 2020: a 1-D convolutional stem over the (mel, onset) features (the
papers' 2-D stem over frequency cost 3x the time per step on one shared core), then
non-causal dilated 1-D convolutions with residual connections whose receptive field spans
tens of seconds, and four heads:

- beat and downbeat activations per frame (sigmoid logits),
- a tempo distribution (one class per BPM, from TEMPO_MIN to TEMPO_MAX) and a meter (3/4, 4/4,
  6/8) from the time-averaged features; the decoder uses them as priors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from plugins.analyze.features import N_FEATURES

TEMPO_MIN, TEMPO_MAX = 40, 240  # BPM classes, one per BPM
N_TEMPI = TEMPO_MAX - TEMPO_MIN + 1
METER_NAMES = ("3/4", "4/4", "6/8")


@dataclass(frozen=True)
class NetConfig:
    stem_channels: int = 32
    channels: int = 20
    kernel: int = 5
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
    dropout: float = 0.1

    def as_dict(self) -> dict:
        return asdict(self)


class Block(nn.Module):
    def __init__(self, channels: int, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        pad = (kernel - 1) // 2 * dilation
        self.conv = nn.Conv1d(channels, channels, kernel, dilation=dilation, padding=pad)
        self.mix = nn.Conv1d(channels, channels, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mix(self.drop(nn.functional.elu(self.conv(x))))


class BeatNet(nn.Module):
    """features (batch, frames, 2*N_MELS) -> beat, downbeat logits (batch, frames), tempo
    logits (batch, N_TEMPI), meter logits (batch, 3)."""

    def __init__(self, config: NetConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or NetConfig()
        self.stem = nn.Sequential(
            nn.Conv1d(N_FEATURES, config.stem_channels, 3, padding=1),
            nn.ELU(),
            nn.Dropout(config.dropout),
            nn.Conv1d(config.stem_channels, config.channels, 3, padding=1),
            nn.ELU(),
        )
        self.blocks = nn.ModuleList(
            Block(config.channels, config.kernel, d, config.dropout) for d in config.dilations
        )
        self.frame_heads = nn.Conv1d(config.channels, 2, 1)
        self.tempo_head = nn.Linear(config.channels, N_TEMPI)
        self.meter_head = nn.Linear(config.channels, len(METER_NAMES))

    def forward(
        self, features: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.stem(features.transpose(1, 2))  # (B, C, T)
        for block in self.blocks:
            x = block(x)
        heads = self.frame_heads(x)
        pooled = x.mean(dim=2)
        return heads[:, 0], heads[:, 1], self.tempo_head(pooled), self.meter_head(pooled)


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
