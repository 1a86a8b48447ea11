"""The networks: MelNet's first tier (time-delayed, centralized and frequency-delayed stacks) and
the upper tiers that add detail, each ending in a Gaussian mixture per spectrogram bin.

These modules are used for training (whole sequences through `nn.GRU`); sampling runs the same
weights step by step with cached state in `plugins.melnet.sampling`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from plugins.melnet.audio import N_MELS, silence_level
from plugins.melnet.conditioning import BIN_CHANNELS, FRAME_FEATURES, INSTRUMENTS
from plugins.melnet.tiers import TIERS, interleave, lower_context, take

LOG_SIGMA_MIN = -3.5  # keeps the density finite on silent (floored) bins


@dataclass(frozen=True)
class ModelConfig:
    hidden: int = 32
    mixtures: int = 4
    tiers: int = TIERS  # 3 = multiscale, 1 = a single full-resolution tier (the baseline)
    bins: int = N_MELS
    instrument_dim: int = 8

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def split_mixture(params: torch.Tensor, mixtures: int) -> tuple[torch.Tensor, ...]:
    logits, mean, log_sigma = params.split(mixtures, dim=-1)
    return logits, mean, log_sigma.clamp(min=LOG_SIGMA_MIN, max=2.0)


def mixture_nll(params: torch.Tensor, target: torch.Tensor, mixtures: int) -> torch.Tensor:
    """Negative log-likelihood (nats) of each target value under its Gaussian mixture."""
    logits, mean, log_sigma = split_mixture(params, mixtures)
    z = (target.unsqueeze(-1) - mean) * torch.exp(-log_sigma)
    log_prob = -0.5 * z * z - log_sigma - 0.5 * math.log(2 * math.pi)
    return -torch.logsumexp(torch.log_softmax(logits, dim=-1) + log_prob, dim=-1)


def shift_time(x: torch.Tensor) -> torch.Tensor:
    """x[..., t-1, :] at position t; silence before the first frame."""
    start = torch.full_like(x[..., :1, :], silence_level())
    return torch.cat([start, x[..., :-1, :]], dim=-2)


def shift_freq(x: torch.Tensor) -> torch.Tensor:
    """x[..., f-1] at position f; silence below the lowest bin."""
    start = torch.full_like(x[..., :1], silence_level())
    return torch.cat([start, x[..., :-1]], dim=-1)


def run_along_time(rnn: nn.GRU, grid: torch.Tensor) -> torch.Tensor:
    """Run `rnn` along time for every bin: (B, T, F, H) -> (B, T, F, H * directions)."""
    b, t, f, h = grid.shape
    out, _ = rnn(grid.permute(0, 2, 1, 3).reshape(b * f, t, h))
    return out.reshape(b, f, t, -1).permute(0, 2, 1, 3)


def run_along_freq(rnn: nn.GRU, grid: torch.Tensor) -> torch.Tensor:
    """Run `rnn` along frequency within every frame: (B, T, F, H) -> (B, T, F, H * dirs)."""
    b, t, f, h = grid.shape
    out, _ = rnn(grid.reshape(b * t, f, h))
    return out.reshape(b, t, f, -1)


class FrameConditioner(nn.Module):
    """Per-frame note features and the instrument class -> a (B, T, H) conditioning sequence.
    Non-causal (the whole note list is known before rendering), so it may look ahead."""

    def __init__(self, hidden: int, instrument_dim: int) -> None:
        super().__init__()
        self.instrument = nn.Embedding(len(INSTRUMENTS), instrument_dim)
        self.project = nn.Linear(FRAME_FEATURES + instrument_dim, hidden)
        self.conv1 = nn.Conv1d(hidden, hidden, 5, padding=2)
        self.conv2 = nn.Conv1d(hidden, hidden, 5, padding=2)

    def forward(self, frame_features: torch.Tensor, instrument: torch.Tensor) -> torch.Tensor:
        b, t, _ = frame_features.shape
        inst = self.instrument(instrument)[:, None, :].expand(b, t, -1)
        h = torch.relu(self.project(torch.cat([frame_features, inst], dim=-1))).transpose(1, 2)
        h = h + self.conv2(torch.relu(self.conv1(h)))
        return h.transpose(1, 2)


class FirstTier(nn.Module):
    """Autoregressive over time and frequency: p(x[t,f] | x[<t, :], x[t, <f], notes)."""

    def __init__(self, config: ModelConfig, bins: int) -> None:
        super().__init__()
        h = config.hidden
        self.mixtures = config.mixtures
        self.cond = FrameConditioner(h, config.instrument_dim)
        self.position = nn.Parameter(torch.zeros(bins, h))
        # time-delayed stack: sees frames < t
        self.td_in = nn.Linear(1 + BIN_CHANNELS, h)
        self.td_time = nn.GRU(h, h, batch_first=True)
        self.td_freq = nn.GRU(h, h, batch_first=True, bidirectional=True)
        self.td_out = nn.Linear(3 * h, h)
        # centralized stack: one vector per frame, frames < t
        self.ce_in = nn.Linear(bins, h)
        self.ce_rnn = nn.GRU(h, h, batch_first=True)
        self.ce_out = nn.Linear(h, h)
        # frequency-delayed stack: bins < f of frame t, plus both stacks above
        self.fd_x = nn.Linear(1, h)
        self.fd_rnn = nn.GRU(h, h, batch_first=True)
        self.head = nn.Linear(h, 3 * config.mixtures)

    def time_delayed_input(
        self, x_prev: torch.Tensor, bin_feats: torch.Tensor, cond: torch.Tensor
    ) -> torch.Tensor:
        features = torch.cat([x_prev.unsqueeze(-1), bin_feats], dim=-1)
        return self.td_in(features) + self.position + cond.unsqueeze(-2)

    def forward(
        self,
        x: torch.Tensor,
        bin_feats: torch.Tensor,
        frame_feats: torch.Tensor,
        instrument: torch.Tensor,
        history: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mixture parameters for every bin of `x`; `history` (default `x`) is what the
        network sees of the bins before each one (training may perturb it, see tier_nll)."""
        seen = x if history is None else history
        cond = self.cond(frame_feats, instrument)
        x_prev = shift_time(seen)
        e = self.time_delayed_input(x_prev, bin_feats, cond)
        along = torch.cat([run_along_time(self.td_time, e), run_along_freq(self.td_freq, e)], -1)
        h_time = e + self.td_out(along)
        h_central, _ = self.ce_rnn(self.ce_in(x_prev) + cond)
        fd_in = self.fd_x(shift_freq(seen).unsqueeze(-1)) + h_time
        fd_in = fd_in + self.ce_out(h_central).unsqueeze(-2)
        h_freq = run_along_freq(self.fd_rnn, fd_in)
        return self.head(h_freq + h_time)


class UpperTier(nn.Module):
    """Adds the odd bins (tier 2) or odd frames (tier 3): autoregressive over time, given the
    lower tiers everywhere, with bins of one frame independent given that context.

    The lower tiers are fully known before this tier runs, so their context comes from a
    non-causal 2-D convolution stack (parallel, cheap on a CPU); only the new bins need a
    recurrent state along time.
    """

    def __init__(self, config: ModelConfig, bins: int) -> None:
        super().__init__()
        h = config.hidden
        self.mixtures = config.mixtures
        self.cond = FrameConditioner(h, config.instrument_dim)
        self.position = nn.Parameter(torch.zeros(bins, h))
        self.ctx_in = nn.Linear(2 + BIN_CHANNELS, h)
        self.ctx_convs = nn.ModuleList(
            [nn.Conv2d(h, h, 3, padding=d, dilation=d) for d in (1, 2, 4)]
        )
        self.ar_x = nn.Linear(1, h)
        self.ar_rnn = nn.GRU(h, h, batch_first=True)
        self.head = nn.Linear(h, 3 * config.mixtures)

    def context(
        self,
        lower: torch.Tensor,
        bin_feats: torch.Tensor,
        frame_feats: torch.Tensor,
        instrument: torch.Tensor,
    ) -> torch.Tensor:
        """Everything known before this tier is sampled, (B, T, F, H); computed once."""
        cond = self.cond(frame_feats, instrument)
        e = self.ctx_in(torch.cat([lower, bin_feats], -1)) + self.position + cond.unsqueeze(-2)
        h = e.permute(0, 3, 1, 2)
        for conv in self.ctx_convs:
            h = h + conv(torch.relu(h))
        return h.permute(0, 2, 3, 1)

    def forward(
        self,
        x: torch.Tensor,
        lower: torch.Tensor,
        bin_feats: torch.Tensor,
        frame_feats: torch.Tensor,
        instrument: torch.Tensor,
        history: torch.Tensor | None = None,
    ) -> torch.Tensor:
        seen = x if history is None else history
        ctx = self.context(lower, bin_feats, frame_feats, instrument)
        h = run_along_time(self.ar_rnn, self.ar_x(shift_time(seen).unsqueeze(-1)) + ctx)
        return self.head(h + ctx)


class MelNet(nn.Module):
    """All tiers of one model; `tiers=1` gives the single-tier, full-resolution baseline."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        if config.tiers == 1:
            self.tier_nets = nn.ModuleList([FirstTier(config, config.bins)])
        elif config.tiers == TIERS:
            half = (config.bins + 1) // 2
            self.tier_nets = nn.ModuleList(
                [
                    FirstTier(config, half),
                    UpperTier(config, config.bins // 2),
                    UpperTier(config, config.bins),
                ]
            )
        else:
            raise ValueError(f"tiers must be 1 or {TIERS}, got {config.tiers}")

    def first_tier(self) -> FirstTier:
        net = self.tier_nets[0]
        assert isinstance(net, FirstTier)
        return net

    def upper_tier(self, tier: int) -> UpperTier:
        """The network of tier 2 or 3."""
        net = self.tier_nets[tier - 1]
        assert isinstance(net, UpperTier)
        return net

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def tier_nll(
        self,
        spec: torch.Tensor,
        bin_feats: torch.Tensor,
        frame_feats: torch.Tensor,
        instrument: torch.Tensor,
        seen: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        """Summed NLL (nats) of the bins each tier generates, for a batch of full-resolution
        spectrograms (B, T, F) with features (B, T, F, C) and (B, T, D).

        `seen` (default `spec`, teacher forcing) is the spectrogram the networks are shown as
        their history and lower-tier context while `spec` is scored: training passes a
        perturbed copy so the model learns to follow the notes when its own samples drift
        (see train.perturb_history)."""
        k = self.config.mixtures
        shown = spec if seen is None else seen
        if self.config.tiers == 1:
            params = self.tier_nets[0](spec, bin_feats, frame_feats, instrument, shown)
            return [mixture_nll(params, spec, k).sum()]
        losses = []
        lower = take(shown, 1)
        for tier, net in enumerate(self.tier_nets, start=1):
            target, history = take(spec, tier), take(shown, tier)
            bins = take(bin_feats, tier, frame_axis=-3, bin_axis=-2)
            frames = take(frame_feats, tier, frame_axis=-2, bin_axis=None)
            if tier == 1:
                params = net(target, bins, frames, instrument, history)
            else:
                context = lower_context(lower, tier, (target.shape[-2], target.shape[-1]))
                params = net(target, context, bins, frames, instrument, history)
            losses.append(mixture_nll(params, target, k).sum())
            if tier == 2:  # tiers 1+2 make the even-frame spectrogram tier 3 refines in time
                lower = interleave(lower, history, axis=-1, total=spec.shape[-1])
        return losses
