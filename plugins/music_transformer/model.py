"""The decoder-only Transformer: relative self-attention with skewing, or absolute positions.

Relative attention follows Huang et al. 2018: each layer and head learns one embedding per
relative distance (`rel`, rows ordered from distance max_len-1 down to 0), and the "skewing"
trick turns Q·Erᵀ (L x L) into position-aligned logits without building the L x L x D tensor.
Generation is incremental (`incremental.py`, which owns `prefill` and `step`): keys carry no
positions in the relative model, so a new query only needs the last P+1 rows of `rel`, which
line up with cached keys 0..P directly. This module knows nothing of the cache: a forward pass
hands each layer's keys and values to an optional `KeySink`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

# Receives one layer's keys and values (batch, heads, L, head) during a forward pass.
KeySink = Callable[[torch.Tensor, torch.Tensor], None]


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    d_model: int = 192
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int = 768
    max_len: int = 512
    dropout: float = 0.1
    relative: bool = True  # False: learned absolute position embeddings (the baseline)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def skew(rel_logits: torch.Tensor) -> torch.Tensor:
    """(..., L, L) with column r = distance L-1-r  ->  (..., L, L) with column j = key j.

    Pad one column on the left, view as (L+1, L), drop the first row: row i shifts left by
    L-1-i, so entry [i, j] ends up holding distance i-j for every j <= i (the rest is masked)."""
    *lead, length, _ = rel_logits.shape
    padded = F.pad(rel_logits, (1, 0))
    return padded.reshape(*lead, length + 1, length)[..., 1:, :]


class Attention(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.n_heads = config.n_heads
        self.head = config.d_model // config.n_heads
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.out = nn.Linear(config.d_model, config.d_model)
        self.dropout = nn.Dropout(config.dropout)
        self.relative = config.relative
        if self.relative:
            self.rel = nn.Parameter(torch.randn(config.n_heads, config.max_len, self.head) * 0.02)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        batch, length, _ = x.shape
        qkv = self.qkv(x).view(batch, length, 3, self.n_heads, self.head).permute(2, 0, 3, 1, 4)
        return qkv[0], qkv[1], qkv[2]

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, keys: KeySink | None = None
    ) -> torch.Tensor:
        """Full causal self-attention over x (batch, L, d); `mask` is (L, L) with -inf above.
        The keys and values also go to `keys` when given (a KV cache's prefill)."""
        batch, length, d_model = x.shape
        q, k, v = self._split(x)
        if keys is not None:
            keys(k, v)
        logits = q @ k.transpose(-1, -2)
        if self.relative:
            rel = self.rel[:, -length:, :]  # distances L-1 .. 0
            logits = logits + skew(q @ rel.transpose(-1, -2).unsqueeze(0))
        weights = torch.softmax(logits / math.sqrt(self.head) + mask, dim=-1)
        mixed = self.dropout(weights) @ v
        return self.out(mixed.transpose(1, 2).reshape(batch, length, d_model))


class Block(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(config.d_model)
        self.attention = Attention(config)
        self.norm2 = nn.LayerNorm(config.d_model)
        self.ff = nn.Sequential(
            nn.Linear(config.d_model, config.d_ff),
            nn.GELU(),
            nn.Linear(config.d_ff, config.d_model),
            nn.Dropout(config.dropout),
        )
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, keys: KeySink | None = None
    ) -> torch.Tensor:
        x = x + self.dropout(self.attention(self.norm1(x), mask, keys))
        return x + self.ff(self.norm2(x))


class MusicTransformer(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        if not config.relative:
            self.position = nn.Embedding(config.max_len, config.d_model)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.head.weight = self.embed.weight  # tied: fewer parameters, trains faster here
        self.dropout = nn.Dropout(config.dropout)
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def embed_tokens(self, tokens: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """Token embeddings times sqrt(d_model), plus positions from `offset` (absolute)."""
        x = self.embed(tokens) * math.sqrt(self.config.d_model)
        if not self.config.relative:
            positions = torch.arange(offset, offset + tokens.shape[1], device=tokens.device)
            x = x + self.position(positions)
        return x

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits for every position of tokens (batch, L <= max_len): (batch, L, vocab)."""
        length = tokens.shape[1]
        if length > self.config.max_len:
            raise ValueError(f"sequence of {length} tokens exceeds max_len {self.config.max_len}")
        mask = torch.full((length, length), float("-inf"), device=tokens.device).triu(1)
        x = self.dropout(self.embed_tokens(tokens))
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.norm(x))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
