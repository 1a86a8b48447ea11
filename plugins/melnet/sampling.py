"""Sampling a spectrogram tier by tier with cached recurrent state.

Training runs each GRU over whole sequences; sampling must go bin by bin, and re-running the
network over the growing prefix for every bin would cost O(bins^2). Instead every stack keeps its
state: the time-delayed GRU carries one state per bin from frame to frame, the centralized GRU
one state per frame, the frequency-delayed GRU one state along the bins of the current frame.
Everything that does not depend on the bin being sampled (note conditioning, upper-tier context,
input projections) is computed once per tier or once per frame, vectorised over bins; the inner
per-bin loop is a handful of small numpy operations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from plugins.melnet.audio import silence_level
from plugins.melnet.network import LOG_SIGMA_MIN, FirstTier, MelNet, UpperTier
from plugins.melnet.tiers import interleave, lower_context, take

# Loud notes sit near +1.5 model units; at high temperature a draw can run away and feed back
# through the autoregression until exp() overflows (NaN audio at temperature 1.5): cap draws.
SAMPLE_MAX = 4.0

Progress = Callable[[int, float], None]  # (tier 1-based, fraction of that tier done)


def _np(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().numpy().astype(np.float32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # overflow-free logistic


@dataclass
class GRUStep:
    """One layer/direction of an `nn.GRU` as a single-step numpy cell (gate order r, z, n)."""

    w_ih: np.ndarray  # (3H, in)
    w_hh: np.ndarray  # (3H, H)
    b_ih: np.ndarray
    b_hh: np.ndarray

    @classmethod
    def of(cls, rnn: nn.GRU, suffix: str = "l0") -> GRUStep:
        return cls(
            *(
                _np(getattr(rnn, f"{name}_{suffix}"))
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            )
        )

    def input_gates(self, x: np.ndarray) -> np.ndarray:
        return x @ self.w_ih.T + self.b_ih

    def step(self, gates_in: np.ndarray, h: np.ndarray) -> np.ndarray:
        """New state from precomputed input gates (x W_ih + b_ih) and the previous state."""
        gates_h = h @ self.w_hh.T + self.b_hh
        size = h.shape[-1]
        # r and z in one logistic call; few, larger numpy calls keep the per-bin loop cheap
        rz = _sigmoid(gates_in[..., : 2 * size] + gates_h[..., : 2 * size])
        n = np.tanh(gates_in[..., 2 * size :] + rz[..., :size] * gates_h[..., 2 * size :])
        return n + rz[..., size:] * (h - n)


class MixtureSampler:
    """Draws from per-bin Gaussian mixtures; temperature sharpens both the component choice
    and the spread."""

    def __init__(self, mixtures: int, temperature: float, rng: np.random.Generator) -> None:
        self.k = mixtures
        self.temperature = temperature
        self.rng = rng

    def __call__(self, params: np.ndarray) -> np.ndarray:
        k, tau = self.k, self.temperature
        logits = params[..., :k] / tau
        mean = params[..., k : 2 * k]
        log_sigma = np.clip(params[..., 2 * k :], LOG_SIGMA_MIN, 2.0)
        gumbel = -np.log(-np.log(self.rng.uniform(1e-9, 1.0, size=logits.shape)))
        choice = np.argmax(logits + gumbel, axis=-1)[..., None]
        mu = np.take_along_axis(mean, choice, axis=-1)[..., 0]
        sigma = np.exp(np.take_along_axis(log_sigma, choice, axis=-1)[..., 0])
        noise = self.rng.standard_normal(mu.shape)
        return np.minimum(mu + sigma * tau * noise, SAMPLE_MAX).astype(np.float32)

    def noise(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Gumbel noise (count, K) and standard normals (count,) for `count` scalar draws,
        drawn in one go: per-bin random calls dominate the inner loop otherwise."""
        gumbel = -np.log(-np.log(self.rng.uniform(1e-9, 1.0, size=(count, self.k))))
        return gumbel, self.rng.standard_normal(count)

    def one(self, params: np.ndarray, gumbel: np.ndarray, normal: float) -> float:
        """One draw from one bin's mixture (params shaped (3K,)) with pre-drawn noise."""
        k, tau = self.k, self.temperature
        choice = int(np.argmax(params[:k] / tau + gumbel))
        log_sigma = min(2.0, max(LOG_SIGMA_MIN, float(params[2 * k + choice])))
        return min(float(params[k + choice]) + math.exp(log_sigma) * tau * normal, SAMPLE_MAX)


@torch.no_grad()
def sample_first_tier(
    net: FirstTier,
    bin_feats: torch.Tensor,
    frame_feats: torch.Tensor,
    instrument: int,
    draw: MixtureSampler,
    progress: Progress | None = None,
    tier: int = 1,
    record: list[np.ndarray] | None = None,
) -> np.ndarray:
    """Sample (T, F) bins autoregressively over time and frequency.

    bin_feats (T, F, C), frame_feats (T, D). `record`, if given, receives each frame's mixture
    parameters (F, 3K) - tests compare them with a full forward pass over the result.
    """
    frames, bins = bin_feats.shape[:2]
    cond = net.cond(frame_feats[None], torch.tensor([instrument]))[0]  # (T, H)
    td_w = net.td_in.weight
    td_static = _np(bin_feats @ td_w[:, 1:].T + net.td_in.bias + net.position + cond[:, None, :])
    td_x = _np(td_w[:, 0])
    td_time = GRUStep.of(net.td_time)
    td_out_w, td_out_b = _np(net.td_out.weight), _np(net.td_out.bias)
    ce_w, ce_static = _np(net.ce_in.weight), _np(cond + net.ce_in.bias)
    ce_rnn = GRUStep.of(net.ce_rnn)
    ce_out_w, ce_out_b = _np(net.ce_out.weight), _np(net.ce_out.bias)
    fd = GRUStep.of(net.fd_rnn)
    fd_x_gates = fd.w_ih @ _np(net.fd_x.weight[:, 0])  # gate input per unit of x[t, f-1]
    head_w, head_b = _np(net.head.weight), _np(net.head.bias)

    silence = np.float32(silence_level())
    hidden = td_x.shape[0]
    time_state = np.zeros((bins, hidden), np.float32)
    central_state = np.zeros(hidden, np.float32)
    previous = np.full(bins, silence, np.float32)
    out = np.empty((frames, bins), np.float32)
    for t in range(frames):
        # time-delayed stack: frame t-1 seen along time (cached state per bin) and frequency
        e = td_static[t] + previous[:, None] * td_x
        time_state = td_time.step(td_time.input_gates(e), time_state)
        along_freq, _ = net.td_freq(torch.from_numpy(e)[None])
        h_time = e + np.concatenate([time_state, _np(along_freq[0])], -1) @ td_out_w.T + td_out_b
        # centralized stack: one state per frame
        central_in = previous @ ce_w.T + ce_static[t]
        central_state = ce_rnn.step(ce_rnn.input_gates(central_in), central_state)
        # frequency-delayed stack: bins of frame t in order, state carried along frequency
        base = h_time + _np(net.fd_x.bias) + (central_state @ ce_out_w.T + ce_out_b)
        gates_static = fd.input_gates(base)  # (F, 3H)
        head_static = h_time @ head_w.T + head_b  # (F, 3K): skip path from the time stack
        state = np.zeros(hidden, np.float32)
        x_below = float(silence)
        row = out[t]
        params_row = np.empty((bins, head_w.shape[0]), np.float32) if record is not None else None
        gumbel, normal = draw.noise(bins)
        for f in range(bins):
            state = fd.step(gates_static[f] + x_below * fd_x_gates, state)
            params = state @ head_w.T + head_static[f]
            if params_row is not None:
                params_row[f] = params
            x_below = row[f] = draw.one(params, gumbel[f], normal[f])
        if record is not None and params_row is not None:
            record.append(params_row)
        previous = row
        if progress is not None and (t % 8 == 7 or t == frames - 1):
            progress(tier, (t + 1) / frames)
    return out


@torch.no_grad()
def sample_upper_tier(
    net: UpperTier,
    lower: torch.Tensor,
    bin_feats: torch.Tensor,
    frame_feats: torch.Tensor,
    instrument: int,
    draw: MixtureSampler,
    progress: Progress | None = None,
    tier: int = 2,
    record: list[np.ndarray] | None = None,
) -> np.ndarray:
    """Sample (T, F) new bins given their lower-tier neighbours `lower` (T, F, 2): one
    vectorised step per frame, the time GRU's state cached per bin."""
    frames, bins = bin_feats.shape[:2]
    ctx = net.context(lower[None], bin_feats[None], frame_feats[None], torch.tensor([instrument]))[
        0
    ]
    rnn = GRUStep.of(net.ar_rnn)
    gates_static = rnn.input_gates(_np(ctx + net.ar_x.bias))  # (T, F, 3H)
    x_gates = rnn.w_ih @ _np(net.ar_x.weight[:, 0])
    head_w = _np(net.head.weight)
    head_static = _np(ctx) @ head_w.T + _np(net.head.bias)
    state = np.zeros((bins, ctx.shape[-1]), np.float32)
    previous = np.full(bins, silence_level(), np.float32)
    out = np.empty((frames, bins), np.float32)
    for t in range(frames):
        state = rnn.step(gates_static[t] + previous[:, None] * x_gates, state)
        params = state @ head_w.T + head_static[t]
        if record is not None:
            record.append(params)
        previous = out[t] = draw(params)
        if progress is not None and (t % 16 == 15 or t == frames - 1):
            progress(tier, (t + 1) / frames)
    return out


def sample_spectrogram(
    model: MelNet,
    bin_feats: np.ndarray,
    frame_feats: np.ndarray,
    instrument: int,
    temperature: float,
    seed: int,
    progress: Progress | None = None,
) -> np.ndarray:
    """A full-resolution (T, F) spectrogram in model units for the given note features."""
    draw = MixtureSampler(model.config.mixtures, temperature, np.random.default_rng(seed))
    bins_t = torch.from_numpy(np.ascontiguousarray(bin_feats, np.float32))
    frames_t = torch.from_numpy(np.ascontiguousarray(frame_feats, np.float32))
    if model.config.tiers == 1:
        return sample_first_tier(model.first_tier(), bins_t, frames_t, instrument, draw, progress)
    frames, bins = bins_t.shape[:2]

    def features(tier: int) -> tuple[torch.Tensor, torch.Tensor]:
        return (
            take(bins_t, tier, frame_axis=-3, bin_axis=-2),
            take(frames_t, tier, frame_axis=-2, bin_axis=None),
        )

    tier1 = torch.from_numpy(
        sample_first_tier(model.first_tier(), *features(1), instrument, draw, progress)
    )
    bin2, frame2 = features(2)
    context2 = lower_context(tier1, 2, (bin2.shape[0], bin2.shape[1]))
    tier2 = torch.from_numpy(
        sample_upper_tier(
            model.upper_tier(2), context2, bin2, frame2, instrument, draw, progress, tier=2
        )
    )
    even = interleave(tier1, tier2, axis=-1, total=bins)
    bin3, frame3 = features(3)
    if bin3.shape[0] == 0:
        return even.numpy()
    context3 = lower_context(even, 3, (bin3.shape[0], bin3.shape[1]))
    tier3 = torch.from_numpy(
        sample_upper_tier(
            model.upper_tier(3), context3, bin3, frame3, instrument, draw, progress, tier=3
        )
    )
    return interleave(even, tier3, axis=-2, total=frames).numpy()
