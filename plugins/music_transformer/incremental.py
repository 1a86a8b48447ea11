"""One token at a time: the key/value cache, `prefill` (a prefix in one pass, filling the cache)
and `step` (one token per sequence), laid out for a CPU. The model (model.py) knows nothing of
the cache; this module drives it.

A step of the shipped model is about 1 M multiply-adds, a fraction of a millisecond of
arithmetic; what costs is the number of PyTorch calls (each a few microseconds). So the step is
written as a flat list of calls on weights packed once per model (`pack_weights`):

- the q/k/v, output and feed-forward matrices are transposed for `addmm`, the 1/sqrt(head)
  attention scale is folded into the query rows, the GELU's constants into the feed-forward
  weights, and the embedding is pre-multiplied by sqrt(d_model);
- per layer the cache keeps one score buffer (batch*heads, head, 2*max_len): the layer's
  distance embeddings E(max_len-1) .. E(0), transposed, in the first half and the keys,
  transposed, in the second. For a query at position P the columns max_len-1-P .. max_len+P
  hold E(P) .. E(0) followed by k_0 .. k_P: one contiguous slice, so a single bmm scores the
  query against both, and adding the two halves gives q·k_j + q·E(P-j) for every key j, the
  exact relative logits. (The absolute-position model leaves the first half zero.)
"""

from __future__ import annotations

import functools
import math
import weakref
from dataclasses import dataclass
from typing import cast

import torch
from torch import nn

from plugins.music_transformer.model import Block, ModelConfig, MusicTransformer

SQRT_HALF = math.sqrt(0.5)


@dataclass(frozen=True)
class LayerWeights:
    norm1: tuple[torch.Tensor, torch.Tensor]
    qkv: torch.Tensor  # (d, 3d), query columns pre-scaled
    qkv_bias: torch.Tensor
    out: torch.Tensor  # (d, d)
    out_bias: torch.Tensor
    norm2: tuple[torch.Tensor, torch.Tensor]
    ff_in: torch.Tensor  # (d, d_ff)
    ff_in_bias: torch.Tensor
    ff_out: torch.Tensor  # (d_ff, d)
    ff_out_bias: torch.Tensor


@dataclass(frozen=True)
class StepWeights:
    embed: torch.Tensor  # (vocab, d), times sqrt(d)
    position: torch.Tensor | None  # (max_len, d) for the absolute-position model
    layers: list[LayerWeights]
    norm: tuple[torch.Tensor, torch.Tensor]
    head: torch.Tensor  # (d, vocab)
    eps: float


def pack_weights(model: MusicTransformer, batch: int) -> StepWeights:
    """A detached copy of the model's weights in the layout `step` uses, biases repeated for
    `batch` rows (addmm then needs no broadcast)."""
    config = model.config
    scale = 1 / math.sqrt(config.d_model // config.n_heads)

    def norm(module: nn.LayerNorm) -> tuple[torch.Tensor, torch.Tensor]:
        return module.weight.detach().clone(), module.bias.detach().clone()

    def transposed(linear: nn.Linear, factor: float = 1.0) -> torch.Tensor:
        return (linear.weight.detach().t() * factor).contiguous()

    def rows(bias: torch.Tensor, factor: float = 1.0) -> torch.Tensor:
        return (bias.detach() * factor).expand(batch, -1).contiguous()

    layers = []
    for block in cast("list[Block]", list(model.blocks)):
        attention = block.attention
        query_scale = torch.ones(3 * config.d_model)
        query_scale[: config.d_model] = scale
        # The feed-forward's first layer yields z = a / sqrt(2) for the pre-activation a, and
        # GELU(a) = (z + z·erf(z)) / sqrt(2): the two 1/sqrt(2) live in the weights.
        first, second = cast(nn.Linear, block.ff[0]), cast(nn.Linear, block.ff[2])
        layers.append(
            LayerWeights(
                norm(block.norm1),
                transposed(attention.qkv) * query_scale,
                rows(attention.qkv.bias * query_scale),
                transposed(attention.out),
                rows(attention.out.bias),
                norm(block.norm2),
                transposed(first, SQRT_HALF),
                rows(first.bias, SQRT_HALF),
                transposed(second, SQRT_HALF),
                rows(second.bias),
            )
        )
    embed = model.embed.weight.detach()
    position = None if config.relative else model.position.weight.detach().clone()
    return StepWeights(
        embed * math.sqrt(config.d_model),
        position,
        layers,
        norm(model.norm),
        embed.t().contiguous(),
        model.norm.eps,
    )


class KVCache:
    """Per-layer keys and values of everything seen so far, preallocated to max_len, plus the
    weights packed for `step` (set by `prefill`)."""

    def __init__(self, config: ModelConfig, batch: int, device: torch.device | str = "cpu"):
        self.heads, self.head = config.n_heads, config.d_model // config.n_heads
        self.batch, self.max_len = batch, config.max_len
        rows = batch * config.n_heads
        # [E(max_len-1) .. E(0) | k_0 .. k_max_len-1], each column one head-sized vector
        self.scores = [
            torch.zeros(rows, self.head, 2 * config.max_len, device=device)
            for _ in range(config.n_layers)
        ]
        self.values = [
            torch.zeros(rows, config.max_len, self.head, device=device)
            for _ in range(config.n_layers)
        ]
        # The same storage seen per sequence and head, to write one step's keys in one call.
        self._keys_by_head = [s.view(batch, self.heads, self.head, -1) for s in self.scores]
        self._values_by_head = [v.view(batch, self.heads, config.max_len, -1) for v in self.values]
        self.length = 0
        self.weights: StepWeights | None = None

    def set_distances(self, layer: int, rel: torch.Tensor) -> None:
        """rel: (heads, max_len, head), rows from distance max_len-1 down to 0."""
        self._keys_by_head[layer][..., : self.max_len] = rel.detach().transpose(1, 2)

    def store(self, layer: int, keys: torch.Tensor, values: torch.Tensor) -> None:
        """Keys and values (batch, heads, L, head) of positions 0..L-1 (prefill)."""
        length = keys.shape[2]
        end = self.max_len + length
        self._keys_by_head[layer][..., self.max_len : end] = keys.transpose(2, 3)
        self._values_by_head[layer][:, :, :length] = values

    def put(self, layer: int, position: int, keys: torch.Tensor, values: torch.Tensor) -> None:
        """Keys and values (batch, heads, head) of one position (a step)."""
        self._keys_by_head[layer].select(3, self.max_len + position).copy_(keys)
        self._values_by_head[layer].select(2, position).copy_(values)


# Each model's packed weights, with the parameter versions they were packed from.
_PACKED: weakref.WeakKeyDictionary[MusicTransformer, tuple[tuple[object, ...], StepWeights]] = (
    weakref.WeakKeyDictionary()
)


def _step_weights(model: MusicTransformer, batch: int) -> StepWeights:
    """The weights packed for `step`, repacked only when a parameter changed: training and
    load_state_dict update parameters in place, which bumps their version counters."""
    key = (batch, *((id(p), p._version) for p in model.parameters()))
    packed = _PACKED.get(model)
    if packed is None or packed[0] != key:
        packed = _PACKED[model] = (key, pack_weights(model, batch))
    return packed[1]


def prefill(model: MusicTransformer, tokens: torch.Tensor, cache: KVCache) -> torch.Tensor:
    """Run a whole prefix (batch, L) once, filling an empty cache; the last position's logits."""
    if cache.length:
        raise ValueError("prefill needs an empty cache")
    length = tokens.shape[1]
    mask = torch.full((length, length), float("-inf"), device=tokens.device).triu(1)
    x = model.embed_tokens(tokens)
    for layer, block in enumerate(cast("list[Block]", list(model.blocks))):
        if model.config.relative:
            cache.set_distances(layer, block.attention.rel)
        x = block(x, mask, functools.partial(cache.store, layer))
    cache.length = length
    cache.weights = _step_weights(model, cache.batch)
    return cast(torch.Tensor, model.head(model.norm(x[:, -1])))


def step(tokens: torch.Tensor, cache: KVCache) -> torch.Tensor:
    """Append one token per sequence (batch,) and return the next-token logits (batch, V),
    with the weights the cache's prefill packed."""
    if cache.length >= cache.max_len:
        raise ValueError("KV cache is full; re-prime with a shorter prefix")
    if cache.weights is None:
        raise ValueError("step needs a cache filled by prefill")
    return _advance(cache.weights, tokens, cache)


def _advance(weights: StepWeights, tokens: torch.Tensor, cache: KVCache) -> torch.Tensor:
    """Append one token per sequence (batch,) at position cache.length; next-token logits."""
    position, window = cache.length, cache.max_len
    count = position + 1
    batch, heads, head = cache.batch, cache.heads, cache.head
    x = weights.embed[tokens]
    if weights.position is not None:
        x = x + weights.position[position]
    d_model = x.shape[1]
    for index, layer in enumerate(weights.layers):
        scores, values = cache.scores[index], cache.values[index]
        h = torch.layer_norm(x, (d_model,), *layer.norm1, weights.eps)
        qkv = torch.addmm(layer.qkv_bias, h, layer.qkv).view(batch, 3, heads, head)
        cache.put(index, position, qkv[:, 1], qkv[:, 2])
        query = qkv[:, 0].reshape(batch * heads, 1, head)
        both = torch.bmm(query, scores[:, :, window - count : window + count])
        attention = torch.softmax(both[:, :, :count] + both[:, :, count:], dim=-1)
        mixed = torch.bmm(attention, values[:, :count]).view(batch, d_model)
        x = torch.addmm(x, mixed, layer.out).add_(layer.out_bias)
        h = torch.layer_norm(x, (d_model,), *layer.norm2, weights.eps)
        # GELU(a) * sqrt(2), with z = a / sqrt(2) (see pack_weights)
        z = torch.addmm(layer.ff_in_bias, h, layer.ff_in)
        hidden = torch.addcmul(z, z, torch.erf(z))
        x = torch.addmm(x, hidden, layer.ff_out).add_(layer.ff_out_bias)
    cache.length = count
    return torch.layer_norm(x, (d_model,), *weights.norm, weights.eps) @ weights.head
