"""The evaluation's yardsticks: SDR ranks good and bad estimates correctly, the oracle masks
recover stems that do not overlap (the internal one only below its 5.5 kHz band), HPSS sends
clicks to drums and tones to the rest."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.separation.baselines import hpss, oracle_internal_mask, oracle_irm
from plugins.separation.metrics import framewise_sdr, median_frame_sdr
from plugins.separation.stems import STEMS

RATE = 16_000
WIDE_RATE = 44_100


def _tone(hz: float, seconds: float = 3.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.stack([0.3 * np.sin(2 * np.pi * hz * t)] * 2, axis=1).astype(np.float32)


def test_sdr_orders_estimates_and_skips_silence() -> None:
    rng = np.random.default_rng(0)
    reference = _tone(440.0) + 0.05 * rng.standard_normal((3 * RATE, 2)).astype(np.float32)
    noise = rng.standard_normal(reference.shape).astype(np.float32)
    exact = framewise_sdr(reference, reference, RATE)
    slightly = framewise_sdr(reference, reference + 0.01 * noise, RATE)
    badly = framewise_sdr(reference, reference + 1.0 * noise, RATE)
    assert exact is not None and slightly is not None and badly is not None
    assert exact > slightly > 20.0 > badly
    assert framewise_sdr(np.zeros_like(reference), reference, RATE) is None


def test_oracle_mask_recovers_disjoint_stems() -> None:
    stems = np.stack([_tone(hz) for hz in (1000.0, 3000.0, 60.0, 400.0)])
    estimates = oracle_irm(stems, RATE)
    for i in range(len(STEMS)):
        value = framewise_sdr(stems[i], estimates[i], RATE)
        assert value is not None and value > 20.0, (STEMS[i], value)


def test_internal_oracle_separates_within_its_band_and_shares_above_it() -> None:
    within = np.stack([_tone(hz, rate=WIDE_RATE) for hz in (1000.0, 3000.0, 60.0, 400.0)])
    estimates = oracle_internal_mask(within, WIDE_RATE)
    for i in range(len(STEMS)):
        value = framewise_sdr(within[i], estimates[i], WIDE_RATE)
        assert value is not None and value > 15.0, (STEMS[i], value)
    # Two stems above 5.5 kHz get one share of everything up there: neither comes out clean,
    # while the full-rate oracle still separates them.
    above = np.stack([_tone(hz, rate=WIDE_RATE) for hz in (7000.0, 9000.0, 60.0, 400.0)])
    internal = framewise_sdr(above[0], oracle_internal_mask(above, WIDE_RATE)[0], WIDE_RATE)
    full = framewise_sdr(above[0], oracle_irm(above, WIDE_RATE)[0], WIDE_RATE)
    assert internal is not None and full is not None
    assert internal < 5.0 < 20.0 < full


def test_hpss_sends_clicks_to_drums_and_tones_elsewhere() -> None:
    clicks = np.zeros((3 * RATE, 2), np.float32)
    clicks[:: RATE // 4] = 0.9
    tone = _tone(523.0)
    estimates = hpss(clicks + tone, RATE)
    drums = STEMS.index("drums")
    other = STEMS.index("other")
    energy = lambda x: float(np.sum(x**2))  # noqa: E731
    # single-sample clicks smear over a window, so drums get most of them, not all
    assert energy(estimates[drums] - clicks) < 0.5 * energy(clicks)
    assert energy(estimates[other] - tone) < 0.01 * energy(tone)


def test_median_frame_sdr_takes_the_median_of_loud_frames() -> None:
    rng = np.random.default_rng(1)
    reference = rng.standard_normal(5 * 1000)
    reference[4000:] = 0.0  # a silent last frame: skipped
    noise = rng.standard_normal(reference.shape)
    # noise 20, 10, 0 and 30 dB below the signal in the four loud frames
    scale = np.repeat([0.1, 10**-0.5, 1.0, 10**-1.5, 1.0], 1000)
    estimate = reference + scale * noise * np.std(reference[:4000])
    median = median_frame_sdr(reference, estimate, 1000)
    assert median is not None and median == pytest.approx(15, abs=0.6)  # between 10 and 20
    assert median_frame_sdr(np.zeros(3000), np.ones(3000), 1000) is None
