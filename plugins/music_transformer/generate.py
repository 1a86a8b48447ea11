"""Sampling continuations: temperature / top-k / top-p with a seeded generator, a KV cache, and
a sliding context for continuations longer than the model's window.

`Continuation.stream()` yields one token per sequence per step, so callers can decode and send
notes while sampling goes on. When the cache is full, the context restarts from the style token
plus the last half window (one prefill), which keeps every step O(window) instead of O(length).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from plugins.music_transformer.events import END, NOTE_OFF, NOTE_ON, PAD, STYLE, TIME_SHIFT
from plugins.music_transformer.model import KVCache, MusicTransformer

# Never sampled: padding, style tokens (only ever the first token), and END (a continuation
# runs for the requested length).
_BANNED = [PAD, END, *range(STYLE, STYLE + 64)]


@dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 1.0
    top_k: int = 0  # 0: off
    top_p: float = 1.0  # 1.0: off
    # Forbid NOTE_OFF of a silent pitch and NOTE_ON of a sounding one, so every note the
    # stream opens is a real note (the evaluation measures the model without this).
    well_formed: bool = False


def sample_next(
    logits: torch.Tensor,
    settings: SamplingSettings,
    generator: torch.Generator,
    banned: torch.Tensor | None = None,
) -> torch.Tensor:
    """One token per row of logits (batch, vocab) -> (batch,); `banned` is an optional bool
    mask (batch, vocab) of further tokens not to sample."""
    logits = logits.float().clone()
    vocab = logits.shape[-1]
    logits[:, [t for t in _BANNED if t < vocab]] = float("-inf")
    if banned is not None:
        logits = logits.masked_fill(banned, float("-inf"))
    logits = logits / max(settings.temperature, 1e-4)
    if 0 < settings.top_k < vocab:
        kth = torch.topk(logits, settings.top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if settings.top_p < 1.0:
        ordered, order = torch.sort(logits, dim=-1, descending=True)
        cumulative = torch.softmax(ordered, dim=-1).cumsum(-1)
        # Drop a token when the mass before it already reaches top_p (the best always stays).
        drop = (cumulative - torch.softmax(ordered, dim=-1)) >= settings.top_p
        ordered = ordered.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, ordered)
    probabilities = torch.softmax(logits, dim=-1)
    return torch.multinomial(probabilities, 1, generator=generator)[:, 0]


class Continuation:
    """Sample `batch` continuations of one prefix ([style, events...]) with a KV cache."""

    def __init__(
        self,
        model: MusicTransformer,
        prefix: Sequence[int],
        batch: int,
        settings: SamplingSettings,
        seed: int,
    ):
        if not prefix or prefix[0] < STYLE:
            raise ValueError("a prefix starts with a style token")
        self.model = model
        self.window = model.config.max_len
        self.style = prefix[0]
        # Leave room to generate before the first context restart.
        keep = self.window - max(1, self.window // 4)
        self.history: list[list[int]] = [list(prefix[1:][-(keep - 1) :]) for _ in range(batch)]
        self.truncated = len(prefix) - 1 - len(self.history[0])
        self.settings = settings
        self.generator = torch.Generator().manual_seed(seed)
        self.batch = batch
        self.restarts = 0
        # Pitches sounding in each generated stream (the primer's notes are all closed).
        self.sounding: list[set[int]] = [set() for _ in range(batch)]

    def _banned(self) -> torch.Tensor | None:
        if not self.settings.well_formed:
            return None
        vocab = self.model.config.vocab_size
        banned = torch.zeros(self.batch, vocab, dtype=torch.bool)
        banned[:, NOTE_OFF:TIME_SHIFT] = True
        for row, pitches in enumerate(self.sounding):
            for pitch in pitches:
                banned[row, NOTE_ON + pitch] = True
                banned[row, NOTE_OFF + pitch] = False
        return banned

    def _track(self, row: int, token: int) -> None:
        if NOTE_ON <= token < NOTE_OFF:
            self.sounding[row].add(token - NOTE_ON)
        elif NOTE_OFF <= token < TIME_SHIFT:
            self.sounding[row].discard(token - NOTE_OFF)

    def _prime(self) -> torch.Tensor:
        self.cache = KVCache(self.model.config, self.batch)
        if self.restarts:
            tail = self.window // 2 - 1
            rows = [[self.style] + h[-tail:] for h in self.history]
        else:
            rows = [[self.style] + h for h in self.history]
        return self.model.prefill(torch.tensor(rows, dtype=torch.long), self.cache)

    def stream(self) -> Iterator[list[int]]:
        """Yield the next token of every sequence, forever (the caller decides when to stop)."""
        # inference_mode is entered per step, never held across a yield: a suspended generator
        # would otherwise leave the caller's thread in inference mode.
        with torch.inference_mode():
            logits = self._prime()
        while True:
            with torch.inference_mode():
                tokens = sample_next(logits, self.settings, self.generator, self._banned())
                values = tokens.tolist()
            for row, token in enumerate(values):
                self.history[row].append(token)
                self._track(row, token)
            yield values
            with torch.inference_mode():
                if self.cache.length >= self.window:
                    self.restarts += 1
                    logits = self._prime()
                else:
                    logits = self.model.step(tokens, self.cache)


def recompute_stream(
    model: MusicTransformer, prefix: Sequence[int], settings: SamplingSettings, seed: int
) -> Iterator[int]:
    """The baseline way to sample (as public implementations do): run the whole prefix (up to
    the window) through the model for every new token, no cache. For benchmarks and tests."""
    generator = torch.Generator().manual_seed(seed)
    window = model.config.max_len
    style, history = prefix[0], list(prefix[1:])
    while True:
        with torch.inference_mode():
            context = [style] + history[-(window - 1) :]
            logits = model(torch.tensor([context], dtype=torch.long))[:, -1]
            token = int(sample_next(logits, settings, generator)[0])
        history.append(token)
        yield token
