"""The n-gram baseline: a proper distribution, lower orders by truncation, and it learns."""

from __future__ import annotations

import math
import random

from plugins.music_transformer.ngram import NGramModel


def _sequences(seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[(i * 3 + rng.randint(0, 1)) % 20 for i in range(50)] for _ in range(20)]


def test_probabilities_sum_to_one_for_seen_and_unseen_contexts() -> None:
    model = NGramModel(4, 25).fit(_sequences(0))
    for context in ([0, 3, 6], [24, 24, 24], []):
        for order in (1, 2, 4):
            total = sum(model.probability(context, t, order) for t in range(25))
            assert math.isclose(total, 1.0, rel_tol=1e-9)


def test_a_fitted_model_beats_uniform_and_lower_orders_match_a_smaller_model() -> None:
    train, held_out = _sequences(1), _sequences(2)
    model = NGramModel(4, 25).fit(train)
    assert model.nll(held_out) < 0.5 * math.log(25)
    bigram = NGramModel(2, 25).fit(train)
    assert math.isclose(model.nll(held_out, order=2), bigram.nll(held_out), rel_tol=1e-12)


def test_distribution_is_every_probability_at_once() -> None:
    model = NGramModel(4, 25).fit(_sequences(0))
    for context in ([0, 3, 6], [24, 24, 24], []):
        vector = model.distribution(context, order=3)
        assert math.isclose(vector.sum(), 1.0, rel_tol=1e-9)
        for token in (0, 3, 9, 24):
            assert math.isclose(vector[token], model.probability(context, token, 3), rel_tol=1e-9)
