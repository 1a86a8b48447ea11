"""The WaveNet (van den Oord et al. 2016) as a mel-conditioned vocoder, in training form.

One stack of dilated causal convolutions (kernel 2) with gated tanh x sigmoid units, residual
and skip connections, and a 256-way softmax over mu-law quantised samples. The condition is a
log-mel spectrogram from one of two front-ends (vocal-tts: 80 bins every 10 ms, melnet: 64 bins
every 16 ms); each front-end has its own small frame-rate network, and the body is shared. A
learned "no condition" vector stands in for the mel when a row is trained or sampled
unconditionally, so the same network is also the unconditional model p(x).

The per-layer condition is computed at frame rate and linearly interpolated to samples
(`frame_to_sample`), the same function in training and in generation, so the cached sampler
(generate.py) computes exactly what this forward pass computes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from plugins.wavenet.mulaw import CLASSES


@dataclass(frozen=True)
class FrontEnd:
    """A mel front-end: bins per frame, samples per frame, and a fixed map to ~unit range."""

    bins: int
    hop: int
    offset: float = 0.0
    scale: float = 1.0


# vocal-tts: raw natural-log mels (floor ln 1e-5 = -11.5, speech peaks near +1);
# melnet: already in its model units (silence -1.7, loud +1.5).
FRONT_ENDS = {
    "vocal": FrontEnd(bins=80, hop=160, offset=5.0, scale=3.0),
    "music": FrontEnd(bins=64, hop=256),
}


@dataclass(frozen=True)
class WaveNetConfig:
    residual: int = 32
    skip: int = 64
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1, 2, 4, 8, 16, 32)
    condition: int = 64  # channels of the frame-rate condition network
    front_ends: tuple[str, ...] = field(default=("vocal", "music"))

    @property
    def receptive_field(self) -> int:
        """Samples of history one output sees (the input conv adds one)."""
        return sum(self.dilations) + 2

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> WaveNetConfig:
        values = dict(values)
        values["dilations"] = tuple(values["dilations"])  # saved as lists
        values["front_ends"] = tuple(values["front_ends"])
        return cls(**values)


class FrameConditioner(nn.Module):
    """Mel frames -> every layer's gate bias at frame rate (layers * 2R channels)."""

    def __init__(self, front_end: FrontEnd, config: WaveNetConfig) -> None:
        super().__init__()
        self.front_end = front_end
        width = config.condition
        self.net = nn.Sequential(
            nn.Conv1d(front_end.bins, width, 3, padding=1),
            nn.Tanh(),
            nn.Conv1d(width, width, 3, padding=1),
            nn.Tanh(),
            nn.Conv1d(width, len(config.dilations) * 2 * config.residual, 1),
        )

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """(batch, frames, bins) -> (batch, frames, layers * 2R)."""
        x = (mel + self.front_end.offset) / self.front_end.scale
        return self.net(x.transpose(1, 2)).transpose(1, 2)


def frame_to_sample(frames: torch.Tensor, positions: torch.Tensor, hop: int) -> torch.Tensor:
    """Linear interpolation between frame centres (frame k is centred on sample k * hop).

    frames (batch, F, C), positions (batch, T) sample indices -> (batch, T, C). Positions past
    the last frame hold it; the first frames are at or before sample 0.
    """
    exact = positions.to(frames.dtype) / hop
    low = exact.floor().clamp(0, frames.shape[1] - 1)
    weight = (exact - low).clamp(0, 1).unsqueeze(-1)
    low_i = low.long()
    high_i = (low_i + 1).clamp(max=frames.shape[1] - 1)
    rows = torch.arange(frames.shape[0], device=frames.device).unsqueeze(1)
    return frames[rows, low_i] * (1 - weight) + frames[rows, high_i] * weight


class WaveNet(nn.Module):
    def __init__(self, config: WaveNetConfig = WaveNetConfig()) -> None:
        super().__init__()
        self.config = config
        r, s = config.residual, config.skip
        layers = len(config.dilations)
        self.inp = nn.Conv1d(1, r, 2)  # causal: the input is left-padded by one
        self.dilated = nn.ModuleList(nn.Conv1d(r, 2 * r, 2, dilation=d) for d in config.dilations)
        # One 1x1 conv per layer gives both the residual (R) and the skip (S) outputs.
        self.res_skip = nn.ModuleList(nn.Conv1d(r, r + s, 1) for _ in config.dilations)
        self.head1 = nn.Conv1d(s, s, 1)
        self.head2 = nn.Conv1d(s, CLASSES, 1)
        self.conditioners = nn.ModuleDict(
            {name: FrameConditioner(FRONT_ENDS[name], config) for name in config.front_ends}
        )
        self.unconditional = nn.Parameter(torch.zeros(layers * 2 * r))

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def frame_condition(
        self, mel: torch.Tensor | None, front_end: str | None, batch: int = 1
    ) -> torch.Tensor:
        """(batch, frames, layers * 2R) gate biases; without a mel, the learned null condition
        as one frame."""
        if mel is None or front_end is None:
            return self.unconditional.expand(batch, 1, -1)
        return self.conditioners[front_end](mel)

    def forward(
        self, inputs: torch.Tensor, condition: torch.Tensor, positions: torch.Tensor, hop: int
    ) -> torch.Tensor:
        """Logits for every sample.

        inputs (batch, T): the previous sample at each step, in [-1, 1] (mu-law decoded);
        condition (batch, F, layers * 2R) from `frame_condition`; positions (batch, T) the
        sample index of each step in the clip the frames describe -> logits (batch, 256, T).
        """
        per_sample = frame_to_sample(condition, positions, hop).transpose(1, 2)
        x = self.inp(nn.functional.pad(inputs.unsqueeze(1), (1, 0)))
        r = self.config.residual
        skip = 0.0
        for k, (dilated, res_skip) in enumerate(zip(self.dilated, self.res_skip, strict=True)):
            d = self.config.dilations[k]
            z = dilated(nn.functional.pad(x, (d, 0))) + per_sample[:, 2 * r * k : 2 * r * (k + 1)]
            h = torch.tanh(z[:, :r]) * torch.sigmoid(z[:, r:])
            out = res_skip(h)
            x = x + out[:, :r]
            skip = skip + out[:, r:]
        return self.head2(torch.relu(self.head1(torch.relu(skip))))  # type: ignore[arg-type]
