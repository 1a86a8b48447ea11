"""MMDenseNet and MMDenseLSTM (Takahashi & Mitsufuji 2017; Takahashi et al. 2018) on STFT
magnitudes: dense-block U-nets on a low band, a high band and the full band, joined by a final
dense block that predicts one soft mask per stem (softmax across stems, so stems sum to the mix).

The LSTM variant adds, at the lowest resolution of the low and full band nets, a bidirectional
LSTM over time that reads the whole (compressed) spectrum of each frame: long context that
convolutions alone need many layers to reach.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TypeVar

import torch
from torch import nn

from plugins.separation.stems import N_BINS, STEMS

ModuleT = TypeVar("ModuleT", bound=nn.Module)


def channels_last(module: ModuleT) -> ModuleT:
    """`module.to(memory_format=torch.channels_last)`: oneDNN's convolutions run faster on
    these weights that way. (torch's type stubs leave that keyword out of Module.to.)"""
    to: Callable[..., ModuleT] = module.to
    return to(memory_format=torch.channels_last)


@dataclass(frozen=True)
class NetworkConfig:
    growth: int = 10  # channels each dense layer adds
    layers: int = 3  # layers per dense block
    stem_channels: int = 16  # channels of the first convolution in each band
    depth: int = 2  # down-samplings per band net (each halves frequency and time)
    lstm_hidden: int = 64  # 0 gives plain MMDenseNet
    band_channels: int = 16  # each band net's output, squeezed by a 1x1 conv before joining
    split_bin: int = N_BINS // 2  # low band = bins below, high band = bins above
    bins: int = N_BINS
    sources: int = len(STEMS)
    # Stereo cues read beside the mid magnitude (stereo.spatial_cues; 0: the mid only). They
    # are zero for mono input, so a network that reads them still separates mono.
    spatial_inputs: int = 0
    # Residual conv blocks at each band net's lowest resolution, after the LSTM (0: none).
    # Capacity where it is cheap: that resolution has a sixteenth of the input's bins x frames.
    bottleneck_blocks: int = 0
    bottleneck_width: int = 64  # inner channels of those blocks

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class DenseBlock(nn.Module):
    """BN-ReLU-Conv3x3 layers, each seeing every earlier layer's output (DenseNet)."""

    def __init__(self, in_channels: int, growth: int, layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(
                nn.BatchNorm2d(in_channels + i * growth),
                nn.ReLU(inplace=True),
                nn.Conv2d(in_channels + i * growth, growth, 3, padding=1, bias=False),
            )
            for i in range(layers)
        )
        self.out_channels = in_channels + layers * growth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.cat([x, layer(x)], dim=1)
        return x


class BottleneckLSTM(nn.Module):
    """Squeeze channels to one map, run a BiLSTM over time on each frame's spectrum, and hand
    the result back as one extra channel (the MMDenseLSTM block)."""

    def __init__(self, channels: int, bins: int, hidden: int) -> None:
        super().__init__()
        self.squeeze = nn.Sequential(
            nn.BatchNorm2d(channels), nn.ReLU(inplace=True), nn.Conv2d(channels, 1, 1)
        )
        self.lstm = nn.LSTM(bins, hidden, batch_first=True, bidirectional=True)
        self.expand = nn.Linear(2 * hidden, bins)
        self.out_channels = channels + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames = self.squeeze(x)[:, 0].transpose(1, 2)  # (batch, time, bins)
        context, _ = self.lstm(frames)
        extra = self.expand(context).transpose(1, 2).unsqueeze(1)
        return torch.cat([x, extra], dim=1)


class ResidualBlock(nn.Module):
    """x + (BN-ReLU-Conv3x3 twice)(x). The last convolution starts at zero, so a block added
    to a trained network leaves its output unchanged until it learns (and still gets a
    gradient: the first convolution's random output feeds the last one's weights)."""

    def __init__(self, channels: int, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, channels, 3, padding=1, bias=False),
        )
        last = self.body[-1]
        assert isinstance(last, nn.Conv2d)
        nn.init.zeros_(last.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class MDenseNet(nn.Module):
    """A dense-block U-net on one frequency band."""

    def __init__(self, bins: int, config: NetworkConfig, lstm: bool) -> None:
        super().__init__()
        g, n = config.growth, config.layers
        self.first = nn.Conv2d(1 + config.spatial_inputs, config.stem_channels, 3, padding=1)
        self.down_blocks = nn.ModuleList()
        self.downs = nn.ModuleList()
        channels, skips = config.stem_channels, []
        for _ in range(config.depth):
            block = DenseBlock(channels, g, n)
            self.down_blocks.append(block)
            skips.append(block.out_channels)
            half = block.out_channels // 2  # compression in the transition, as in DenseNet-BC
            self.downs.append(
                nn.Sequential(
                    nn.BatchNorm2d(block.out_channels),
                    nn.ReLU(True),
                    nn.Conv2d(block.out_channels, half, 1, bias=False),
                    nn.AvgPool2d(2),
                )
            )
            channels = half
        self.bottom = DenseBlock(channels, g, n)
        channels = self.bottom.out_channels
        self.lstm = (
            BottleneckLSTM(channels, bins >> config.depth, config.lstm_hidden)
            if lstm and config.lstm_hidden > 0
            else None
        )
        if self.lstm is not None:
            channels = self.lstm.out_channels
        self.refine = nn.Sequential(
            *(
                ResidualBlock(channels, config.bottleneck_width)
                for _ in range(config.bottleneck_blocks)
            )
        )
        self.ups = nn.ModuleList()
        self.up_blocks = nn.ModuleList()
        for skip in reversed(skips):
            self.ups.append(nn.ConvTranspose2d(channels, g * 2, 2, stride=2))
            block = DenseBlock(g * 2 + skip, g, n)
            self.up_blocks.append(block)
            channels = block.out_channels
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.first(x)
        skips = []
        for block, down in zip(self.down_blocks, self.downs, strict=True):
            x = block(x)
            skips.append(x)
            x = down(x)
        x = self.bottom(x)
        if self.lstm is not None:
            x = self.lstm(x)
        x = self.refine(x)
        for up, block in zip(self.ups, self.up_blocks, strict=True):
            x = block(torch.cat([up(x), skips.pop()], dim=1))
        return x


class MMDenseNet(nn.Module):
    """Masks for every stem from a mixture magnitude (batch, bins, frames).

    `frames` must be a multiple of 2**depth; `separate.py` pads chunks accordingly.
    """

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        self.config = config
        lstm = config.lstm_hidden > 0
        self.low = MDenseNet(config.split_bin, config, lstm=lstm)
        self.high = MDenseNet(config.bins - config.split_bin, config, lstm=False)
        self.full = MDenseNet(config.bins, config, lstm=lstm)
        # Per-bin input scaling, learned: magnitudes span 60 dB across frequency.
        self.input_scale = nn.Parameter(torch.ones(config.bins, 1))
        self.input_bias = nn.Parameter(torch.zeros(config.bins, 1))
        # 1x1 squeezes keep the full-resolution final block cheap (it dominates the cost).
        c = config.band_channels
        self.low_fit = nn.Conv2d(self.low.out_channels, c, 1)
        self.high_fit = nn.Conv2d(self.high.out_channels, c, 1)
        self.full_fit = nn.Conv2d(self.full.out_channels, c, 1)
        self.final = DenseBlock(2 * c, config.growth, config.layers)
        self.head = nn.Sequential(
            nn.BatchNorm2d(self.final.out_channels),
            nn.ReLU(True),
            nn.Conv2d(self.final.out_channels, config.sources, 1),
        )

    @property
    def multiple(self) -> int:
        return 2**self.config.depth

    def with_spatial_inputs(self, count: int) -> MMDenseNet:
        """This network reading `count` stereo cues as well. The new inputs' weights start at
        zero, so until it is trained it returns exactly the masks this one does."""
        if self.config.spatial_inputs:
            raise ValueError("this network already reads stereo cues")
        wider = MMDenseNet(replace(self.config, spatial_inputs=count))
        weights = self.state_dict()
        for band in ("low", "high", "full"):
            key = f"{band}.first.weight"
            weights[key] = torch.nn.functional.pad(weights[key], (0, 0, 0, 0, 0, count))
        wider.load_state_dict(weights)
        return wider.train(self.training)

    def with_bottleneck_blocks(self, blocks: int, width: int) -> MMDenseNet:
        """This network with `blocks` more residual blocks at each band net's lowest resolution
        (`width` inner channels; a network that has some already must keep its width). The
        new blocks start as the identity, so until trained it returns exactly these masks:
        more capacity that goes on from this network's weights instead of from scratch."""
        have = self.config.bottleneck_blocks
        if blocks < 1 or (have and width != self.config.bottleneck_width):
            width_note = f", {self.config.bottleneck_width} wide as the ones it has" if have else ""
            raise ValueError(f"add at least one block{width_note}")
        deeper = MMDenseNet(
            replace(self.config, bottleneck_blocks=have + blocks, bottleneck_width=width)
        )
        missing, unexpected = deeper.load_state_dict(self.state_dict(), strict=False)
        added = tuple(
            f"{band}.refine.{i}."
            for band in ("low", "high", "full")
            for i in range(have, have + blocks)
        )
        if unexpected or not all(key.startswith(added) for key in missing):
            raise RuntimeError(
                f"weights did not carry over: missing {missing}, unexpected {unexpected}"
            )
        return deeper.train(self.training)

    def masks_any_length(
        self, magnitude: torch.Tensor, cues: torch.Tensor | None = None
    ) -> torch.Tensor:
        """As forward, for any number of frames: pads to a multiple of 2**depth, then crops."""
        frames = magnitude.shape[-1]
        padding = (0, (-frames) % self.multiple)
        if cues is not None:
            cues = torch.nn.functional.pad(cues, padding)
        return self(torch.nn.functional.pad(magnitude, padding), cues)[..., :frames]

    def forward(self, magnitude: torch.Tensor, cues: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, bins, frames) magnitudes, and for a network that reads stereo cues their
        (batch, spatial_inputs, bins, frames) values (None: mono, all zero) -> (batch,
        sources, bins, frames) masks."""
        x = torch.log1p(magnitude * 10.0) * self.input_scale + self.input_bias
        x = x.unsqueeze(1)
        if self.config.spatial_inputs:
            if cues is None:
                cues = x.new_zeros(x.shape[0], self.config.spatial_inputs, *x.shape[2:])
            x = torch.cat([x, cues], dim=1)
        split = self.config.split_bin
        bands = torch.cat(
            [self.low_fit(self.low(x[:, :, :split])), self.high_fit(self.high(x[:, :, split:]))],
            dim=2,
        )
        x = self.final(torch.cat([bands, self.full_fit(self.full(x))], dim=1))
        return torch.softmax(self.head(x), dim=1)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
