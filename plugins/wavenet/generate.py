"""Sampling the WaveNet: naive, cached (Fast WaveNet) and cached + folded.

- `naive_generate` recomputes the whole receptive field for every sample (the cost of the
  plain convolutional forward: O(receptive field x layers) per sample); the baseline.
- `cached_generate` keeps, per layer, a queue of that layer's last `dilation` inputs (Paine et
  al. 2016, "Fast Wavenet Generation"): one step is two small matrix products per layer.
- `folded_generate` cuts the clip into `folds` segments and samples them side by side as one
  batch (WaveRNN's batched sampling), each segment starting `overlap` samples early: the first
  half of that is warm-up (discarded, it began from silence), the second half crossfades with
  the previous segment's end. A step over a batch costs about as much as a step for one row, so
  the wall time falls by nearly the fold count; the crossfades are the quality cost.

Randomness comes in as uniforms (one per row and step) used for inverse-CDF sampling, so the
naive and cached samplers can be checked to draw the very same samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import cast

import torch
from torch import nn

from plugins.wavenet.mulaw import CLASSES, decode
from plugins.wavenet.network import WaveNet, frame_to_sample

Progress = Callable[[float], None]


def _draw(logits: torch.Tensor, uniforms: torch.Tensor, temperature: float) -> torch.Tensor:
    """Class per row from logits (rows, 256) and uniforms (rows,), by inverse CDF."""
    cdf = torch.cumsum(torch.softmax(logits / temperature, dim=-1), dim=-1)
    return torch.searchsorted(cdf, uniforms.unsqueeze(-1)).clamp(max=CLASSES - 1).squeeze(-1)


def _head(model: WaveNet, skip: torch.Tensor) -> torch.Tensor:
    """Skip sum (rows, S) -> logits (rows, 256), as the 1x1 convs of the forward pass."""
    h = torch.relu(
        torch.nn.functional.linear(torch.relu(skip), model.head1.weight[..., 0], model.head1.bias)
    )
    return torch.nn.functional.linear(h, model.head2.weight[..., 0], model.head2.bias)


@torch.inference_mode()
def naive_generate(
    model: WaveNet,
    condition: torch.Tensor,
    hop: int,
    steps: int,
    uniforms: torch.Tensor,
    temperature: float = 1.0,
    start: int = 0,
) -> torch.Tensor:
    """One row: `steps` samples, each from a full forward over the last receptive field.

    condition (1, frames, layers * 2R) from `model.frame_condition`; uniforms (1, steps).
    """
    field = model.config.receptive_field
    dtype = condition.dtype
    previous = torch.zeros(1, steps + 1, dtype=dtype)  # previous[t] = sample t - 1
    positions = torch.arange(start, start + steps).unsqueeze(0)
    for t in range(steps):
        first = max(0, t + 1 - field)
        logits = model(previous[:, first : t + 1], condition, positions[:, first : t + 1], hop)
        drawn = _draw(logits[:, :, -1], uniforms[:, t], temperature)
        previous[:, t + 1] = decode(drawn).to(dtype)
    return previous[:, 1:]


class _CachedState:
    """Weights rearranged for one-sample steps, and the per-layer queues of past inputs."""

    def __init__(self, model: WaveNet, rows: int, dtype: torch.dtype) -> None:
        r = model.config.residual
        self.model = model
        self.residual = r
        w = model.inp.weight[:, 0]  # (R, 2): [applies to input t-1, input t]
        self.inp_previous, self.inp_now, self.inp_bias = w[:, 0], w[:, 1], _bias(model.inp)
        dilated, res_skip = _convolutions(model.dilated), _convolutions(model.res_skip)
        self.past_t = [conv.weight[:, :, 0].T.contiguous() for conv in dilated]
        self.now_t = [conv.weight[:, :, 1].T.contiguous() for conv in dilated]
        self.res_skip_t = [conv.weight[:, :, 0].T.contiguous() for conv in res_skip]
        self.res_skip_bias = [_bias(conv) for conv in res_skip]
        self.dilations = model.config.dilations
        self.queues = [torch.zeros(rows, d, r, dtype=dtype) for d in self.dilations]
        self.last_input = torch.zeros(rows, dtype=dtype)

    def step(self, t: int, sample_in: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """Input sample t (rows,), gate biases (rows, layers * 2R) -> logits (rows, 256)."""
        r = self.residual
        x = torch.addcmul(self.inp_bias, sample_in.unsqueeze(1), self.inp_now)
        x = x + self.last_input.unsqueeze(1) * self.inp_previous
        self.last_input = sample_in
        skip = None
        for k, d in enumerate(self.dilations):
            queue, slot = self.queues[k], t % d
            z = torch.addmm(
                condition[:, 2 * r * k : 2 * r * (k + 1)], queue[:, slot], self.past_t[k]
            )
            z = z.addmm_(x, self.now_t[k])
            queue[:, slot] = x
            h = torch.tanh(z[:, :r]) * torch.sigmoid(z[:, r:])
            out = torch.addmm(self.res_skip_bias[k], h, self.res_skip_t[k])
            x = x + out[:, :r]
            skip = out[:, r:] if skip is None else skip + out[:, r:]
        assert skip is not None
        return _head(self.model, skip)


@torch.inference_mode()
def cached_generate(
    model: WaveNet,
    condition: torch.Tensor,
    hop: int,
    steps: int,
    uniforms: torch.Tensor,
    temperature: float = 1.0,
    starts: torch.Tensor | None = None,
    progress: Progress | None = None,
) -> torch.Tensor:
    """Rows side by side, `steps` samples each, one cached step per sample.

    condition (1 or rows, frames, layers * 2R); uniforms (rows, steps); starts (rows,) the clip
    position of each row's first sample (default 0) -> audio (rows, steps).
    """
    rows = uniforms.shape[0]
    dtype = condition.dtype
    starts = torch.zeros(rows, dtype=torch.long) if starts is None else starts
    # The dilated convs' biases ride on the condition: interpolation keeps a constant constant.
    biased = (condition + _bias_row(model)).expand(rows, -1, -1)
    state = _CachedState(model, rows, dtype)
    out = torch.zeros(rows, steps, dtype=dtype)
    sample_in = torch.zeros(rows, dtype=dtype)
    report_every = max(1, steps // 50)
    by_step = uniforms.T.contiguous()  # one contiguous row of draws per step
    for t in range(steps):
        gate_bias = frame_to_sample(biased, (starts + t).unsqueeze(1), hop)[:, 0]
        logits = state.step(t, sample_in, gate_bias)
        sample_in = decode(_draw(logits, by_step[t], temperature)).to(dtype)
        out[:, t] = sample_in
        if progress is not None and t % report_every == 0:
            progress(t / steps)
    return out


def _convolutions(layers: nn.ModuleList) -> list[nn.Conv1d]:
    return cast("list[nn.Conv1d]", list(layers))


def _bias(conv: nn.Conv1d) -> torch.Tensor:
    assert conv.bias is not None  # every WaveNet convolution has one
    return conv.bias


def _bias_row(model: WaveNet) -> torch.Tensor:
    return torch.cat([_bias(conv) for conv in _convolutions(model.dilated)])


def fold_plan(samples: int, folds: int, overlap: int) -> tuple[int, int, int]:
    """(folds actually used, segment length, steps per fold). A fold shorter than its overlap
    would spend more on warm-up than it saves, so short clips get fewer folds."""
    folds = max(1, min(folds, samples // max(1, 2 * overlap) or 1))
    segment = math.ceil(samples / folds)
    return folds, segment, segment + (overlap if folds > 1 else 0)


@torch.inference_mode()
def folded_generate(
    model: WaveNet,
    condition: torch.Tensor,
    hop: int,
    samples: int,
    folds: int = 16,
    overlap: int = 1000,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    progress: Progress | None = None,
) -> torch.Tensor:
    """Exactly `samples` samples (float32): `folds` segments generated as one batch."""
    folds, segment, steps = fold_plan(samples, folds, overlap)
    lead = steps - segment  # how early each fold after the first starts
    starts = torch.arange(folds) * segment - lead
    uniforms = torch.rand(folds, steps, generator=generator, dtype=condition.dtype)
    rows = cached_generate(model, condition, hop, steps, uniforms, temperature, starts, progress)
    out = torch.zeros(samples, dtype=torch.float32)
    warm = lead // 2
    fade = lead - warm
    ramp = (torch.arange(fade, dtype=torch.float32) + 0.5) / max(1, fade)
    for k in range(folds):
        begin = k * segment
        body = rows[k, lead : lead + segment].float()
        end = min(samples, begin + segment)
        out[begin:end] = body[: end - begin]
        if k > 0 and fade > 0:
            tail = rows[k, warm:lead].float()  # covers [begin - fade, begin)
            out[begin - fade : begin] = out[begin - fade : begin] * (1 - ramp) + tail * ramp
    return out
