"""Corpus scores as test songs: the pickup is cut so beat 0 is a downbeat, the score's meter
and notes carry over, and scores the tracker cannot be judged on are left out."""

from __future__ import annotations

import numpy as np
import pytest
from music21 import meter, note, stream

from plugins.analyze.corpus_songs import beat_song, corpus_songs


def tune(signature: str, bars: int, pickup: float, voices: int = 1) -> stream.Score:
    """A score of `bars` full bars of quarter notes after a pickup of `pickup` quarters."""
    score = stream.Score()
    bar = meter.TimeSignature(signature).barDuration.quarterLength
    for voice in range(voices):
        part = stream.Part()
        lengths = ([pickup] if pickup else []) + [bar] * bars
        for index, length in enumerate(lengths):
            measure = stream.Measure(number=index)
            if index == 0:
                measure.insert(0, meter.TimeSignature(signature))
            if index == 0 and pickup:
                measure.paddingLeft = bar - pickup
            filled = 0.0
            while filled < length - 1e-9:
                step = min(1.0 if signature != "6/8" else 0.5, length - filled)
                measure.append(note.Note(60 + voice * 4 + index % 5, quarterLength=step))
                filled += step
            part.append(measure)
        score.insert(0, part)
    return score


@pytest.mark.parametrize("signature", ["3/4", "4/4", "6/8"])
def test_the_pickup_is_cut_and_the_meter_kept(signature: str) -> None:
    rng = np.random.default_rng(0)
    song = beat_song("t", tune(signature, 20, pickup=1.0, voices=2), (0,), 100.0, rng)
    assert song is not None
    assert song.meter.name == signature and not song.drums
    bar = song.meter.bar_quarters
    assert song.song.beats == pytest.approx(20 * bar)  # whole bars, the pickup gone
    assert song.song.tempo == pytest.approx(100.0 * song.meter.beat_quarters)
    assert len(song.song.parts) == 2
    first = song.song.parts[0].events
    assert first[0].start == pytest.approx(0.0)  # the first full bar's first note
    assert first[0].pitch == 60 + 1  # bar 1's pitch: the pickup's note (60) was cut
    assert all(72 <= e.velocity < 88 for p in song.song.parts for e in p.events)
    assert np.allclose(np.diff(song.beats()), 0.6)  # 100 felt beats a minute


def test_scores_it_cannot_be_judged_on_are_left_out() -> None:
    rng = np.random.default_rng(0)
    assert beat_song("t", tune("2/4", 40, 0.0), (0,), 100.0, rng) is None  # no such meter
    assert beat_song("t", tune("4/4", 4, 0.0), (0,), 100.0, rng) is None  # under 20 s
    changing = tune("4/4", 20, 0.0)
    changing.parts[0].getElementsByClass("Measure")[5].insert(0, meter.TimeSignature("3/4"))
    assert beat_song("t", changing, (0,), 100.0, rng) is None  # the meter changes


def test_corpus_songs_come_from_both_styles() -> None:
    made = list(corpus_songs(2, seed=0))
    assert [style for style, _ in made] == ["chorale", "fiddle tune"]
    for _, song in made:
        assert song.meter.name in ("3/4", "4/4", "6/8") and song.song.seconds >= 20.0
