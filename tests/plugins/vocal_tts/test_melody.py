"""Fitting a melody: the window, monophony, range and syllable counts."""

from __future__ import annotations

import pytest

from host import BadInput, Note
from plugins.vocal_tts.melody import Window, assign, check_range, melody_in

WINDOW = Window(start_beat=4.0, beats=8.0, seconds_per_beat=0.5)


def test_only_notes_starting_inside_the_window_count() -> None:
    notes = [Note(60, 90, 3.0, 1), Note(62, 90, 4.0, 1), Note(64, 90, 11.5, 2), Note(65, 90, 12, 1)]
    assert [n.pitch for n in melody_in(notes, WINDOW, "bars 2-3")] == [62, 64]


def test_chords_keep_the_top_note_and_overlaps_are_cut() -> None:
    notes = [Note(60, 90, 4, 2), Note(67, 90, 4, 2), Note(62, 90, 5, 1)]
    line = melody_in(notes, WINDOW, "bars 2-3")
    assert [(n.pitch, n.start, n.duration) for n in line] == [(67, 4, 1), (62, 5, 1)]


def test_an_empty_window_says_where_the_notes_are() -> None:
    with pytest.raises(BadInput, match="beat 20"):
        melody_in([Note(60, 90, 20, 1)], WINDOW, "bars 2-3")


def test_out_of_range_notes_name_the_note_and_the_fix() -> None:
    with pytest.raises(BadInput, match=r"note 1 has pitch 90.*transpose"):
        check_range([Note(60, 90, 4, 1), Note(90, 90, 5, 1)], "female", 0)
    check_range([Note(90, 90, 5, 1)], "female", -24)


def test_more_syllables_than_notes_is_an_error_and_spare_notes_are_a_melisma() -> None:
    line = [Note(60, 90, 4, 1), Note(62, 90, 5, 1), Note(64, 90, 6, 2)]
    with pytest.raises(BadInput, match="4 syllables but only 3 notes"):
        assign(4, line, "bars 2-3")
    assert assign(2, line, "bars 2-3") == [(4, 5), (5, 8)]
