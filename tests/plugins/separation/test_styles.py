"""The style arrangements: every style is deterministic, has all four stems, stays in its
meter and tempo range, and plays what its name says (walking bass in quarters, eighth-note
bass in eighths, 6/8 and 3/4 bars); jazz, the held-out style, is never a training style."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.separation.arrangement import RIDE
from plugins.separation.build_styles import generalisation
from plugins.separation.stems import STEMS
from plugins.separation.styles import (
    METER_BEATS,
    STYLES,
    bass_line,
    groove,
    keys_part,
)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_style_is_deterministic_with_every_stem(style: str) -> None:
    from plugins.separation.styles import arrange_style

    one, bar = arrange_style("x", style, np.random.default_rng(5), max_seconds=8.0)
    two, _ = arrange_style("x", style, np.random.default_rng(5), max_seconds=8.0)
    assert one == two
    assert {p.stem for p in one.parts} == set(STEMS)
    assert all(p.events for p in one.parts)
    low, high = STYLES[style].tempo
    assert low <= one.tempo <= high and 70 <= one.tempo <= 180
    assert bar in set(METER_BEATS.values())
    assert one.beats % bar == 0  # whole bars
    for part in one.parts:
        assert all(0 <= e.start < one.beats + 0.5 and 0 <= e.pitch <= 127 for e in part.events)
    bass = next(p for p in one.parts if p.stem == "bass")
    vocals = next(p for p in one.parts if p.stem == "vocals")
    assert np.median([e.pitch for e in bass.events]) < np.median([e.pitch for e in vocals.events])


def test_meters_cover_four_four_three_four_and_six_eight() -> None:
    meters = {m for s in STYLES.values() for m in s.meters}
    assert {"4/4", "3/4", "6/8"} <= meters


def test_bass_patterns_play_their_rhythm() -> None:
    timeline = [(0.0, (0, "maj")), (4.0, (5, "maj"))]
    rng = np.random.default_rng(0)
    walking = bass_line(timeline, 4.0, 0, "4/4", "walking", rng)
    assert [e.start for e in walking] == [float(b) for b in range(8)]
    assert walking[4].pitch % 12 == 5  # the next chord's root on its downbeat
    assert abs(walking[3].pitch - walking[4].pitch) <= 2  # approached by step
    eighths = bass_line(timeline, 4.0, 0, "4/4", "eighths", rng)
    assert np.allclose(np.diff([e.start for e in eighths]), 0.5)


def test_keys_arpeggio_plays_one_chord_tone_at_a_time() -> None:
    timeline = [(0.0, (0, "maj7"))]
    style = STYLES["ballad"]
    events = keys_part(timeline, 4.0, 0, "4/4", "arpeggio", style, np.random.default_rng(1))
    starts = [e.start for e in events]
    assert len(set(starts)) == len(starts)  # one note per step
    assert {e.pitch % 12 for e in events} <= {0, 4, 7, 11}
    sustained = keys_part(timeline, 4.0, 0, "4/4", "sustained", style, np.random.default_rng(1))
    assert {e.start for e in sustained} == {0.0} and len(sustained) == 4


def test_swing_groove_rides_and_six_eight_has_six_hats() -> None:
    swing = groove(8.0, 4.0, "swing", np.random.default_rng(2))
    assert sum(e.pitch == RIDE for e in swing) >= 8
    six = groove(3.0, 3.0, "six_eight", np.random.default_rng(2))
    hats = [e.start for e in six if e.pitch == 42]
    assert len(hats) >= 5  # (a downbeat that timing jitter puts before 0 is dropped)
    assert np.allclose(np.round(np.array(hats) * 2) / 2, hats, atol=0.05)  # on the eighths


def test_held_out_style_is_not_a_training_style() -> None:
    gen = generalisation()
    assert gen["held_out_style"] in STYLES
    assert gen["held_out_style"] not in gen["train_styles"]
    assert set(gen["train_styles"]) <= set(STYLES) | {"chorale"}
