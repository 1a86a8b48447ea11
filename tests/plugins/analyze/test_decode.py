"""The decoder: from activations to tempo, beats, bars and meter. Activations are made from
known beat grids (as a perfect network would give them), so every figure is exact."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.analyze.decode import DecodeSettings, analyze, bars, beat_period
from plugins.analyze.features import FPS, frames_for, mel_filterbank, targets
from plugins.analyze.metrics import f_measure, tempo_accuracy
from plugins.analyze.network import TEMPO_MIN


def _logits(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _grid(tempo: float, per_bar: int, seconds: float = 30.0, offset: float = 0.37):
    beats = np.arange(offset, seconds, 60.0 / tempo)
    frames = int(seconds * FPS) + 1
    downbeats = beats[1::per_bar]  # the first beat is a pickup
    return beats, downbeats, targets(beats, frames), targets(downbeats, frames)


@pytest.mark.parametrize(
    ("meter", "per_bar", "tempo"), [("3/4", 3, 84.0), ("4/4", 4, 131.0), ("6/8", 2, 72.5)]
)
def test_perfect_activations_give_the_tempo_beats_and_bars(
    meter: str, per_bar: int, tempo: float
) -> None:
    beats, downbeats, beat_act, down_act = _grid(tempo, per_bar)
    found = analyze(_logits(0.9 * beat_act), _logits(0.9 * down_act), None, None, FPS)
    assert found.tempo == pytest.approx(tempo, rel=0.005)
    assert found.meter == meter and found.first_downbeat_index == 1
    assert f_measure(beats, found.beats) == 1.0
    assert f_measure(downbeats, found.downbeats) == 1.0
    positions = found.beat_positions()
    assert positions[1] == 0.0 and positions[0] < 0  # the pickup comes before beat 0
    quarters = {"3/4": 1.0, "4/4": 1.0, "6/8": 1.5}[meter]
    assert found.quarter_tempo == pytest.approx(tempo * quarters, rel=0.005)


def test_the_tempo_head_picks_which_multiple_of_the_period_is_the_beat() -> None:
    # A pulse at 80 BPM whose every other pulse is weaker: the autocorrelation alone prefers
    # 80 BPM, a tempo head sure of 160 BPM (the two are an octave apart) gets 160.
    _, _, beat_act, _ = _grid(160.0, 4)
    probs = np.full(201, 1e-4)
    probs[160 - TEMPO_MIN] = 1.0
    assert 60 * FPS / beat_period(beat_act, FPS, probs / probs.sum()) == pytest.approx(
        160, rel=0.04
    )
    probs = np.full(201, 1e-4)
    probs[80 - TEMPO_MIN] = 1.0
    assert 60 * FPS / beat_period(beat_act, FPS, probs / probs.sum()) == pytest.approx(80, rel=0.04)


def test_a_tempo_range_and_a_given_meter_are_obeyed() -> None:
    beats, _, beat_act, down_act = _grid(120.0, 4)
    slow = analyze(_logits(beat_act), _logits(down_act), None, None, FPS, tempo_range=(40, 90))
    assert slow.tempo == pytest.approx(60.0, rel=0.01)
    forced = analyze(_logits(beat_act), _logits(down_act), None, None, FPS, meter="3/4")
    assert forced.meter == "3/4" and forced.signature == (3, 4)
    assert np.allclose(np.diff(forced.downbeats), 1.5, atol=0.02)


def test_silence_gives_an_answer_not_an_exception() -> None:
    frames = frames_for(16_000 * 5)
    found = analyze(np.full(frames, -9.0), np.full(frames, -9.0), None, None, FPS)
    assert found.meter in ("3/4", "4/4", "6/8") and np.isfinite(found.tempo)
    assert bars(np.zeros(0, int), np.zeros(frames), None, 0.2) == ("4/4", 0)


def test_meter_contrast_separates_two_three_and_four_beat_bars() -> None:
    for per_bar, meter in ((2, "6/8"), (3, "3/4"), (4, "4/4")):
        beats, _, _, down_act = _grid(100.0, per_bar)
        frames = np.round(beats * FPS).astype(int)
        assert bars(frames, down_act, None, 0.2) == (meter, 1)


def test_metrics() -> None:
    assert tempo_accuracy(100.0, 103.9) == (True, True)
    assert tempo_accuracy(100.0, 200.0) == (False, True)
    assert tempo_accuracy(100.0, 300.0) == (False, True)
    assert tempo_accuracy(100.0, 150.0) == (False, False)
    reference = np.arange(0, 20, 0.5)
    assert f_measure(reference, reference + 0.05) == 1.0
    assert f_measure(reference, reference + 0.1) == 0.0


def test_mel_filterbank_covers_the_band_without_empty_filters() -> None:
    bank = mel_filterbank()
    assert bank.shape == (64, 513) and (bank.sum(axis=1) > 0).all()


def test_split_compound_lets_the_meter_head_say_compound_or_simple() -> None:
    # Downbeats on beats 1 and 3 of a 4/4 grid read as two-beat (6/8) bars by contrast alone.
    beats, _, beat_act, _ = _grid(120.0, 4)
    _, _, _, half_bars = _grid(120.0, 2)
    settings = DecodeSettings(split_compound=True, meter_weight=0.0)
    simple = np.log(np.array([0.2, 0.7, 0.1]))  # the head: 4/4 likelier, hardly 6/8
    found = analyze(_logits(beat_act), _logits(half_bars), None, simple, FPS, settings)
    assert found.meter in ("3/4", "4/4") and found.meter != "6/8"
    assert analyze(_logits(beat_act), _logits(half_bars), None, None, FPS).meter == "6/8"
    compound = np.log(np.array([0.1, 0.1, 0.8]))
    found = analyze(_logits(beat_act), _logits(half_bars), None, compound, FPS, settings)
    assert found.meter == "6/8"
