"""Lyrics + melody to network inputs and audio: exact lengths, onsets on the notes, pitch on
the melody, and errors that name the problem."""

from __future__ import annotations

import numpy as np
import pytest

from host import BadInput, Note
from plugins.vocal_tts.audio import HOP, SAMPLE_RATE
from plugins.vocal_tts.checkpoint import Bundle
from plugins.vocal_tts.pitch import hz_to_midi
from plugins.vocal_tts.synthesis import Request, clean_lyrics, prepare, render

LYRICS = "Twinkle twinkle little star"
MELODY = [Note(p, 100, float(k), 0.8) for k, p in enumerate([60, 60, 67, 67, 69, 69, 67])]


def _request(**changes: object) -> Request:
    fields: dict[str, object] = dict(
        lyrics=LYRICS, mode="sing", notes=MELODY, tempo=120.0, beats_per_bar=4.0, bars=2
    )
    fields.update(changes)
    return Request(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tempo", "beats_per_bar", "bars"), [(120, 4, 2), (97, 3, 3), (61.3, 4, 1)]
)
def test_audio_is_exactly_the_requested_bars(
    tiny_bundle: Bundle, tempo: float, beats_per_bar: float, bars: int
) -> None:
    notes = [Note(60, 90, k * 0.5, 0.5) for k in range(int(bars * beats_per_bar * 2))]
    prepared = prepare(_request(tempo=tempo, beats_per_bar=beats_per_bar, bars=bars, notes=notes))
    audio = render(tiny_bundle, prepared)
    assert len(audio) == round(bars * beats_per_bar * 60 / tempo * SAMPLE_RATE)
    assert np.abs(audio).max() <= 0.8 + 1e-6


def test_syllables_start_on_their_notes_and_pitch_follows_the_melody() -> None:
    prepared = prepare(_request())
    assert [t["start_beat"] for t in prepared.timings] == [0, 1, 2, 3, 4, 5, 6]
    assert [t["start_seconds"] for t in prepared.timings] == [0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert [t["pitch"] for t in prepared.timings] == [60, 60, 67, 67, 69, 69, 67]
    for k, note in enumerate(MELODY):  # the centre of each note sits exactly on its pitch
        centre = int((note.start + note.duration / 2) * 0.5 * 100)
        assert prepared.f0[centre] > 0
        assert abs(hz_to_midi(prepared.f0[centre]) - note.pitch) < 0.01, k
    boundaries = np.concatenate([[0], np.cumsum(prepared.plan.durations)])
    sounding_starts = [
        int(boundaries[i])
        for i, s in enumerate(prepared.plan.symbols)
        if s != "_" and (i == 0 or prepared.plan.symbols[i - 1] == "_")
    ]
    assert sounding_starts == [0, 50, 100, 150, 200, 250, 300]


def test_bars_later_in_the_song_take_the_notes_from_there() -> None:
    notes = [Note(60, 90, 8.0 + k, 1) for k in range(4)]
    prepared = prepare(_request(lyrics="one two three four", notes=notes, start_bar=3, bars=1))
    assert [t["start_seconds"] for t in prepared.timings] == [0, 0.5, 1.0, 1.5]
    assert prepared.samples == 2 * SAMPLE_RATE


def test_spare_notes_make_a_melisma_on_the_last_syllable() -> None:
    prepared = prepare(_request(lyrics="ah"))
    assert len(prepared.timings) == 1
    assert prepared.timings[0]["end_beat"] == pytest.approx(6.8)
    centre = int(5.4 * 50)
    assert abs(hz_to_midi(prepared.f0[centre]) - 69) < 0.01


def test_transpose_and_vibrato_move_the_pitch() -> None:
    plain = prepare(_request(transpose=-12, voice="male")).f0
    assert abs(hz_to_midi(plain[20]) - 48) < 0.01
    wobbly = prepare(_request(vibrato=50.0)).f0
    held = hz_to_midi(wobbly[300:338][wobbly[300:338] > 0])  # last note, after vibrato onset
    assert 0.5 < held.max() - held.min() < 1.05


def test_lyrics_lose_symbols_and_repeated_punctuation() -> None:
    assert clean_lyrics("  Oh!!!  say, can... you <see> ") == "Oh! say, can. you see"


def test_speaking_puts_syllables_on_the_grid_with_natural_pitch() -> None:
    prepared = prepare(_request(mode="speak", notes=None, syllable_beats=0.5))
    assert [t["start_beat"] for t in prepared.timings] == [0, 0.5, 1, 1.5, 2, 2.5, 3]
    voiced = prepared.f0[prepared.f0 > 0]
    assert voiced.std() > 1.0  # intonation, not a monotone
    assert all(t["pitch"] is None for t in prepared.timings)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"lyrics": "   "}, "lyrics", "empty"),
        ({"lyrics": "!!! ??? @#%"}, "lyrics", "has no words to pronounce"),
        ({"lyrics": LYRICS + " how I wonder"}, "lyrics", "11 syllables but only 7 notes"),
        ({"notes": None}, "notes", "needed to sing"),
        ({"notes": [Note(100, 90, 0, 1)] * 7}, "notes", "outside the female voice's range"),
        ({"notes": [Note(60, 90, 40, 1)]}, "notes", "no note starting inside bars 1-2"),
        ({"bars": 32, "tempo": 20.0}, "bars", "at most 60 s"),
        ({"mode": "speak", "notes": None, "syllable_beats": 2.0}, "lyrics", "need 14 beats"),
        # a millisecond per note, or a note on the very last moment of the bars: no frame
        (
            {
                "lyrics": "hot cross buns",
                "bars": 1,
                "notes": [Note(60, 90, k * 0.001, 0.001) for k in range(3)],
            },
            "notes",
            "syllable 1 ('hot') gets no time",
        ),
        (
            {"lyrics": "hot", "bars": 1, "notes": [Note(60, 90, 3.999, 1)]},
            "notes",
            "at least one 10 ms frame",
        ),
        ({"lyrics": "你好 twinkle"}, "lyrics", "Latin alphabet"),
        ({"lyrics": "привет"}, "lyrics", "CYRILLIC"),
    ],
)
def test_bad_input_names_the_field_and_the_problem(
    changes: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(BadInput) as error:
        prepare(_request(**changes))
    assert error.value.field == field
    assert words in error.value.message


def test_rests_between_notes_are_silent(tiny_bundle: Bundle) -> None:
    notes = [Note(60, 90, 0, 1), Note(62, 90, 3, 1)]
    prepared = prepare(_request(lyrics="la la", notes=notes, bars=1))
    audio = render(tiny_bundle, prepared)
    rest = audio[int(1.1 * 0.5 * SAMPLE_RATE) : int(2.9 * 0.5 * SAMPLE_RATE)]
    assert np.abs(rest).max() == 0.0
    assert np.abs(audio[: int(0.4 * SAMPLE_RATE)]).max() > 0.01
    assert len(audio) % HOP == 0
