"""The acoustic model: phonemes + given durations + given f0 -> log-mel frames.

A FastSpeech-style, duration-driven descendant of Tacotron 2: a convolutional phoneme
encoder, a length regulator that repeats each phoneme for its frames (the durations come from
the timing plan, so no attention can skip or stutter), frame-level pitch and position
features, and a convolutional mel decoder. All convolutions, so it trains on one CPU core.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from plugins.vocal_tts.audio import N_MELS

LOG_F0_CENTRE, LOG_F0_SCALE = 5.0, 0.6  # log Hz: 148 Hz at 0, about +-1 octave per unit


@dataclass(frozen=True)
class AcousticConfig:
    vocab: int
    speakers: int = 2
    width: int = 160
    encoder_layers: int = 4
    decoder_layers: int = 6
    kernel: int = 5
    dropout: float = 0.1

    def as_dict(self) -> dict[str, int | float]:
        return asdict(self)


class ConvBlock(nn.Module):
    def __init__(self, width: int, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            width, width, kernel, padding=dilation * (kernel // 2), dilation=dilation
        )
        self.norm = nn.LayerNorm(width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (batch, time, width), mask (batch, time, 1): residual conv -> ReLU -> norm."""
        y = torch.relu(self.conv((x * mask).transpose(1, 2))).transpose(1, 2)
        return self.norm(x + self.dropout(y)) * mask


def frame_features(f0: torch.Tensor, position: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
    """Per-frame conditioning: normalised log f0 (0 if unvoiced), voiced flag, position
    inside the phoneme (0..1) and the phoneme's log length. Shapes (batch, frames) -> (.., 4)."""
    voiced = (f0 > 0).float()
    log_f0 = (torch.log(f0.clamp_min(1.0)) - LOG_F0_CENTRE) / LOG_F0_SCALE * voiced
    return torch.stack([log_f0, voiced, position, torch.log1p(length) / 4.0], dim=-1)


def regulate(
    durations: torch.Tensor, frames: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For each output frame: which phoneme, position within it, and its length.
    durations (batch, phones) int -> three (batch, frames) tensors (index -1 past the end)."""
    ends = torch.cumsum(durations, dim=1)
    starts = ends - durations
    t = torch.arange(frames, device=durations.device).unsqueeze(0)
    index = torch.searchsorted(ends, t.expand(durations.shape[0], -1).contiguous(), right=True)
    inside = index < durations.shape[1]
    safe = index.clamp_max(durations.shape[1] - 1)
    length = torch.gather(durations, 1, safe).float()
    position = (t - torch.gather(starts, 1, safe)).float() / length.clamp_min(1.0)
    return torch.where(inside, safe, -1), position * inside, length * inside


class AcousticModel(nn.Module):
    def __init__(self, config: AcousticConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.phoneme = nn.Embedding(config.vocab, w, padding_idx=0)
        self.speaker = nn.Embedding(config.speakers, w)
        self.encoder = nn.ModuleList(
            ConvBlock(w, config.kernel, 1, config.dropout) for _ in range(config.encoder_layers)
        )
        self.features = nn.Linear(4, w)
        dilations = [1, 2, 4, 1, 2, 4, 1, 2][: config.decoder_layers]
        self.decoder = nn.ModuleList(
            ConvBlock(w, config.kernel, d, config.dropout) for d in dilations
        )
        self.out = nn.Linear(w, N_MELS)

    def forward(
        self,
        phonemes: torch.Tensor,
        durations: torch.Tensor,
        f0: torch.Tensor,
        speaker: torch.Tensor,
    ) -> torch.Tensor:
        """phonemes, durations (batch, phones); f0 (batch, frames) Hz; speaker (batch,).
        Returns normalised log-mel (batch, frames, N_MELS)."""
        mask = (phonemes > 0).unsqueeze(-1).float()
        x = (self.phoneme(phonemes) + self.speaker(speaker).unsqueeze(1)) * mask
        for block in self.encoder:
            x = block(x, mask)
        index, position, length = regulate(durations, f0.shape[1])
        frame_mask = (index >= 0).unsqueeze(-1).float()
        h = torch.gather(x, 1, index.clamp_min(0).unsqueeze(-1).expand(-1, -1, x.shape[-1]))
        h = (h + self.features(frame_features(f0, position, length))) * frame_mask
        for block in self.decoder:
            h = block(h, frame_mask)
        return self.out(h)

    def config_dict(self) -> dict[str, int | float]:
        return self.config.as_dict()
