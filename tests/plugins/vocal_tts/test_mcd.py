"""Mel-cepstral distortion: zero for the same audio, blind to timing, and larger for a
different voice than for the same voice at another speed."""

from __future__ import annotations

import numpy as np

from plugins.vocal_tts import teachers
from plugins.vocal_tts.mcd import dtw_path, mel_cepstral_distortion

TEXT = "Open the window and sing with me tonight."


def test_dtw_follows_the_cheap_diagonal_around_a_wall() -> None:
    cost = np.ones((4, 5))
    for i, j in [(0, 0), (1, 1), (1, 2), (2, 3), (3, 4)]:
        cost[i, j] = 0.0
    rows, cols = dtw_path(cost)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [
        (0, 0),
        (1, 1),
        (1, 2),
        (2, 3),
        (3, 4),
    ]


def test_distortion_ranks_voices_and_ignores_timing_and_silence() -> None:
    hts = teachers.speak(TEXT, "slt-hts").audio
    slower = teachers.speak(TEXT, "slt-hts", rate=120).audio
    espeak = teachers.speak(TEXT, "male").audio
    padded = np.concatenate([np.zeros(8000, np.float32), hts, np.zeros(8000, np.float32)])
    assert mel_cepstral_distortion(hts, hts) < 1e-6
    assert mel_cepstral_distortion(padded, hts) < 0.5
    same_voice = mel_cepstral_distortion(slower, hts)
    other_voice = mel_cepstral_distortion(espeak, hts)
    assert 0 < same_voice < other_voice, (same_voice, other_voice)
