"""Style from notes by Bayes' rule over the network's style tokens, and `style = auto`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from host.requests import Done, OutputEvent
from plugins.music_transformer.checkpoint import load_weights
from plugins.music_transformer.events import TimedNote
from plugins.music_transformer.style_classifier import (
    CANDIDATES,
    classify,
    style_log_likelihoods,
)
from tests.plugins.music_transformer.test_plugin import PRIMER, _request

SCALE = [TimedNote(60 + step, 80, 0.5 * i, 0.5) for i, step in enumerate((0, 2, 4, 5, 7, 9))]


def test_posterior_is_a_distribution_over_the_styles(tiny_checkpoint: Path) -> None:
    network, _ = load_weights(tiny_checkpoint)
    posterior = classify(network, SCALE)
    assert set(posterior) == set(CANDIDATES) and "any" not in posterior
    assert sum(posterior.values()) == pytest.approx(1.0)
    values = list(posterior.values())
    assert values == sorted(values, reverse=True)
    # the posterior is the softmax of the per-style log-likelihoods
    scores = style_log_likelihoods(network, SCALE)
    best = CANDIDATES[int(np.argmax(scores))]
    assert next(iter(posterior)) == best


def test_auto_style_says_what_it_chose_and_continues(tmp_path: Path, tiny_checkpoint: Path) -> None:
    events = _request(
        tmp_path, tiny_checkpoint, inputs={"primer": PRIMER}, options={"style": "auto", "bars": 1}
    )
    assert isinstance(events[-1], Done), events[-1]
    (style,) = [e.output for e in events if isinstance(e, OutputEvent) and e.output.name == "style"]
    assert style.data["style"] in CANDIDATES  # type: ignore[attr-defined]
    assert sum(style.data["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)  # type: ignore[attr-defined]


def test_velocities_do_not_sway_the_style(tiny_checkpoint: Path) -> None:
    """The corpus's scores have no dynamics: a performed or transcribed primer is classified
    as the same notes at the scores' velocity."""
    network, _ = load_weights(tiny_checkpoint)
    performed = [
        TimedNote(n.pitch, v, n.start, n.duration)
        for n, v in zip(SCALE, (30, 127, 64, 90, 12, 110), strict=True)
    ]
    assert classify(network, performed) == pytest.approx(classify(network, SCALE))
