"""Production effects: each stem keeps its level through its chain, silent stems stay silent,
the bus EQ is the same linear filter on every stem (so the stems still sum to the bus-processed
mix), and the bus compressor only turns loud passages down."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pedalboard")

from plugins.separation import effects  # noqa: E402

RATE = 11_025


def _stems(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(2 * RATE) / RATE
    tone = np.sin(2 * np.pi * 220 * t)[:, None] * np.ones((1, 2))
    return {
        "vocals": (0.1 * tone).astype(np.float32),
        "drums": (0.05 * rng.standard_normal((t.size, 2))).astype(np.float32),
        "bass": (0.2 * np.sin(2 * np.pi * 55 * t)[:, None] * np.ones((1, 2))).astype(np.float32),
        "other": np.zeros((t.size, 2), np.float32),
    }


def test_stems_keep_their_level_and_silence() -> None:
    stems = _stems()
    for seed in range(4):
        out = effects.produce(stems, RATE, np.random.default_rng(seed))
        assert not np.any(out["other"])
        for name in ("vocals", "drums", "bass"):
            assert out[name].shape == stems[name].shape and out[name].dtype == np.float32
            assert np.isfinite(out[name]).all()
        # levels change only by the shared bus gain (<= 1), never by a stem's own chain
        ratios = [
            np.sqrt(np.mean(out[n] ** 2)) / np.sqrt(np.mean(stems[n] ** 2))
            for n in ("vocals", "drums", "bass")
        ]
        assert max(ratios) < 2.5
    again = effects.produce(stems, RATE, np.random.default_rng(3))
    first = effects.produce(stems, RATE, np.random.default_rng(3))
    assert all(np.array_equal(again[n], first[n]) for n in stems)


def test_bus_eq_on_each_stem_sums_to_the_eq_of_the_mix() -> None:
    stems = _stems()
    chain = effects._eq(RATE, np.random.default_rng(7))
    each = sum(effects._run(chain, a, RATE) for a in stems.values())
    whole = effects._run(chain, sum(stems.values()), RATE)
    assert np.max(np.abs(each - whole)) < 1e-4 * np.max(np.abs(whole))


def test_bus_gain_turns_only_loud_passages_down() -> None:
    quiet = np.full((RATE, 2), 0.01, np.float32)
    loud = np.full((RATE, 2), 0.5, np.float32)
    gain = effects.bus_gain(np.concatenate([quiet, loud]), RATE, threshold_db=-20, ratio=3)
    assert gain.shape == (2 * RATE,)
    assert np.all(gain <= 1.0 + 1e-6)
    assert gain[RATE // 2] == pytest.approx(1.0, abs=1e-3)
    assert gain[-1] < 0.7  # 14 dB over the threshold at 3:1 -> about -9 dB


def test_pan_is_constant_power() -> None:
    audio = np.ones((10, 2), np.float32)
    assert np.allclose(effects.pan(audio, 0.0), audio)
    hard_left = effects.pan(audio, -1.0)
    assert np.allclose(hard_left[:, 1], 0, atol=1e-6)
    assert np.sum(hard_left**2) == pytest.approx(np.sum(audio**2), rel=1e-5)
