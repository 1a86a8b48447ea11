"""The teacher synthesisers: Festival (HTS), flite and espeak-ng give aligned, levelled speech,
and a sung version of any teacher lands on the plan's timing and pitch."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.vocal_tts import festival, flite, teachers
from plugins.vocal_tts.audio import HOP, SAMPLE_RATE
from plugins.vocal_tts.phonemes import SILENCE, syllables
from plugins.vocal_tts.pitch import analyse_f0, hz_to_midi
from plugins.vocal_tts.plan import placed_plan
from plugins.vocal_tts.teacher import random_melody, sung_example, world_analysis
from plugins.vocal_tts.voices import VOICE_NAMES, VOICE_TABLE

TEXT = "The river runs along the quiet valley, it's 42 miles."


def test_token_positions_are_found_left_to_right() -> None:
    text = "the cat and the hat"
    assert festival.token_positions(text, ["the", "cat", "and", "the", "hat"]) == [1, 5, 9, 13, 17]
    assert festival.token_positions("It's 42.", ["It's", "42"]) == [1, 6]
    assert festival.token_positions("a b", ["a", "zz", "b"]) == [1, 2, 3]


@pytest.mark.parametrize("voice", VOICE_NAMES)
def test_every_voice_speaks_aligned_levelled_syllables(voice: str) -> None:
    utterance = teachers.speak(TEXT, voice)
    audio, phones = utterance.audio, utterance.phones
    assert audio.dtype == np.float32 and 2.0 < len(audio) / SAMPLE_RATE < 8.0
    rms_db = 10 * np.log10(np.mean(audio.astype(np.float64) ** 2))
    assert -21.0 < rms_db < -19.0 or np.abs(audio).max() > 0.98, rms_db
    starts = [p.start for p in phones]
    assert starts == sorted(starts) and all(p.end > p.start for p in phones)
    assert phones[-1].end <= len(audio) and phones[-1].end > 0.8 * len(audio)
    words = [unit.text for unit in syllables(phones, TEXT)]
    for word in ("river", "valley", "miles"):
        assert word in words, (voice, words)
    assert "42" in words or "forty" in words  # espeak-ng reports the word, Festival the token


def test_festival_and_flite_pauses_are_silence_and_rate_changes_length() -> None:
    utterance = festival.speak("Hello there, my friend.")
    assert utterance.phones[0].symbol == SILENCE and utterance.phones[-1].symbol == SILENCE
    assert {p.symbol for p in utterance.phones} - {SILENCE} <= set(festival.PHONES)
    slow = festival.speak("Hello there, my friend.", rate=110)
    assert len(slow.audio) > 1.3 * len(utterance.audio)
    fast, plain = flite.speak("Hello there.", "rms", 260), flite.speak("Hello there.", "rms")
    assert len(fast.audio) < 0.8 * len(plain.audio)
    with pytest.raises(flite.FliteError, match="no voice 'robot'"):
        flite.speak("hello", "robot")


@pytest.mark.parametrize("voice", ["slt-hts", "flite-rms", "female"])
def test_sung_teacher_holds_the_plan_s_timing_and_pitch(voice: str) -> None:
    """The WORLD-sung teacher of each engine: every syllable starts where the plan put it
    (within one 10 ms frame) and the sung pitch is the melody's (median within 30 cents)."""
    utterance = teachers.speak(TEXT, voice)
    frames = len(utterance.audio) // HOP
    rng = np.random.default_rng(3)
    example = sung_example(
        utterance, TEXT, voice, 0, rng, world_analysis(utterance.audio[: frames * HOP], frames)
    )
    assert example is not None
    voiced = example.f0 > 0
    measured = analyse_f0(example.audio, len(example.f0))
    both = voiced & (measured > 0)
    assert both.mean() > 0.3
    cents = 100 * np.abs(hz_to_midi(measured[both]) - hz_to_midi(example.f0[both]))
    assert np.median(cents) < 30, (voice, np.median(cents))

    # Timing: the plan sounds exactly on the melody's note spans, frame for frame.
    units = syllables(utterance.phones, TEXT)
    _, spans, total = random_melody(len(units), voice, rng)
    plan = placed_plan(utterance.phones, units, spans, total)
    wanted = np.zeros(total, dtype=bool)
    for start, end in spans:
        wanted[start:end] = True
    assert np.array_equal(plan.source >= 0, wanted), VOICE_TABLE[voice].engine
