"""Generated songs: the beat grid matches the meter and tempo, and the parts play on it."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.analyze.build_data import crop, plan
from plugins.analyze.songs import METERS, make_song


@pytest.mark.parametrize("meter", ["3/4", "4/4", "6/8"])
@pytest.mark.parametrize("drums", [True, False])
def test_a_song_has_whole_bars_on_its_beat_grid(meter: str, drums: bool) -> None:
    rng = np.random.default_rng(3)
    song = make_song("s", METERS[meter], 100.0, 20.0, drums, rng)
    m = METERS[meter]
    assert song.song.tempo == pytest.approx(100.0 * m.beat_quarters)  # Song counts quarters
    assert song.song.seconds >= 20.0
    assert (song.song.beats / m.bar_quarters) == pytest.approx(
        round(song.song.beats / m.bar_quarters)
    )
    beats = song.beats()
    assert np.allclose(np.diff(beats), 0.6)  # 100 BPM
    assert np.allclose(song.downbeats(), beats[:: m.beats_per_bar])
    assert any(p.drums for p in song.song.parts) == drums
    starts = [e.start for p in song.song.parts for e in p.events]
    assert starts and max(starts) < song.song.beats
    if drums:  # the kick lands on every downbeat (within the humanising spread)
        kicks = [e.start for p in song.song.parts if p.drums for e in p.events if e.pitch == 36]
        bars_with_kick = {
            round(k / m.bar_quarters)
            for k in kicks
            if abs(k / m.bar_quarters - round(k / m.bar_quarters)) < 0.05
        }
        assert len(bars_with_kick) >= 0.9 * song.song.beats / m.bar_quarters


def test_a_crop_shifts_the_labels_with_the_audio() -> None:
    rng = np.random.default_rng(0)
    song = make_song("s", METERS["4/4"], 120.0, 12.0, True, rng)
    rate = 1000
    audio = np.zeros((int(song.song.seconds * rate), 2), np.float32)
    piece, labels = crop(song, audio, rate, 8.0, rng)
    assert len(piece) == 8 * rate and labels["seconds"] == 8.0
    assert all(0 <= b < 8.0 for b in labels["beats"])
    assert np.allclose(np.diff(labels["beats"]), 0.5, atol=1e-3)
    assert set(labels["downbeats"]) <= set(labels["beats"])
    assert labels["beats"][0] < 0.5 and labels["downbeats"][0] < 2.0  # from within bar 1


def test_a_plan_balances_meters_and_drums() -> None:
    songs = plan(12, seed=1)
    assert [m for m, _, _ in songs[:3]] == ["3/4", "4/4", "6/8"]
    assert sum(d for _, _, d in songs) == 6
    assert all(70 <= t <= 180 for _, t, _ in songs)
