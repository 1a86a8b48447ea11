"""A smoothed n-gram model of event tokens: the non-neural baseline for test NLL.

Witten-Bell interpolation: P(w|h) = (c(h,w) + T(h) * P(w|h')) / (c(h) + T(h)), where T(h) is
the number of distinct tokens seen after h and h' drops the oldest token, down to a uniform
distribution over the vocabulary, so no event ever gets zero probability.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np


class NGramModel:
    def __init__(self, order: int, vocab_size: int):
        if order < 1:
            raise ValueError("order must be >= 1")
        self.order = order
        self.vocab_size = vocab_size
        # counts[n][context tuple of length n] -> Counter of next tokens
        self.counts: list[dict[tuple[int, ...], Counter[int]]] = [
            defaultdict(Counter) for _ in range(order)
        ]
        self.totals: list[dict[tuple[int, ...], int]] = [{} for _ in range(order)]

    def fit(self, sequences: Iterable[Sequence[int]]) -> NGramModel:
        for sequence in sequences:
            for i, token in enumerate(sequence):
                for n in range(self.order):
                    if i - n < 0:
                        break
                    self.counts[n][tuple(sequence[i - n : i])][token] += 1
        self.totals = [
            {history: sum(following.values()) for history, following in level.items()}
            for level in self.counts
        ]
        return self

    def probability(self, context: Sequence[int], token: int, order: int | None = None) -> float:
        """P(token | context) using histories up to `order - 1` tokens (default: all)."""
        p = 1.0 / self.vocab_size
        for n in range(min(order or self.order, self.order)):
            if n > len(context):
                break
            history = tuple(context[len(context) - n :]) if n else ()
            following = self.counts[n].get(history)
            if not following:
                break  # longer histories were never seen either
            total = self.totals[n][history]
            types = len(following)
            p = (following.get(token, 0) + types * p) / (total + types)
        return p

    def nll(
        self, sequences: Iterable[Sequence[int]], skip_first: int = 1, order: int | None = None
    ) -> float:
        """Mean NLL in nats per token, not scoring the first `skip_first` tokens (style).
        A lower `order` scores the same counts as the lower-order model would."""
        order = min(order or self.order, self.order)
        total, count = 0.0, 0
        for sequence in sequences:
            for i in range(skip_first, len(sequence)):
                context = sequence[max(0, i - order + 1) : i]
                total -= math.log(self.probability(context, sequence[i], order))
                count += 1
        return total / max(1, count)

    def distribution(self, context: Sequence[int], order: int | None = None) -> np.ndarray:
        """P(. | context) over the whole vocabulary at once (what sampling from it needs)."""
        p = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for n in range(min(order or self.order, self.order)):
            if n > len(context):
                break
            history = tuple(context[len(context) - n :]) if n else ()
            following = self.counts[n].get(history)
            if not following:
                break
            counts = np.zeros(self.vocab_size)
            counts[list(following)] = list(following.values())
            types = len(following)
            p = (counts + types * p) / (self.totals[n][history] + types)
        return p
