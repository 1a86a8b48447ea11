"""The timing plan: syllables start where asked, vowels absorb the span, rests are silent."""

from __future__ import annotations

import numpy as np

from plugins.vocal_tts.audio import HOP
from plugins.vocal_tts.espeak import speak
from plugins.vocal_tts.phonemes import SILENCE, is_vowel, syllables
from plugins.vocal_tts.plan import CONSONANT_SHARE, placed_plan, spoken_plan, syllable_lengths

TEXT = "Sing this strange song"


def test_each_syllable_starts_exactly_on_its_span() -> None:
    utterance = speak(TEXT)
    units = syllables(utterance.phones, TEXT)
    spans = [(10 + 50 * k, 10 + 50 * k + 40) for k in range(len(units))]
    plan = placed_plan(utterance.phones, units, spans, 300)
    assert plan.frames == 300 == len(plan.source) == len(plan.vowel)
    boundaries = np.concatenate([[0], np.cumsum(plan.durations)])
    first_phone_starts = [
        int(boundaries[i])
        for i, s in enumerate(plan.symbols)
        if s != SILENCE and (i == 0 or plan.symbols[i - 1] == SILENCE)
    ]
    assert first_phone_starts == [a for a, _ in spans]
    assert (plan.source[:10] == -1).all() and (plan.source[-50:] == -1).all()


def test_long_notes_stretch_the_vowel_not_the_consonants() -> None:
    utterance = speak(TEXT)
    unit = syllables(utterance.phones, TEXT)[2]  # "strange": s t r eI n dZ
    spoken = [
        round((utterance.phones[i].end - utterance.phones[i].start) / HOP) for i in unit.phones
    ]
    lengths = syllable_lengths(utterance.phones, unit, 200)
    assert sum(lengths) == 200
    for index, length, before in zip(unit.phones, lengths, spoken, strict=True):
        if is_vowel(utterance.phones[index].symbol):
            assert length > 100
        else:
            assert abs(length - before) <= 1


def test_short_notes_squeeze_consonants_to_their_share() -> None:
    utterance = speak(TEXT)
    unit = syllables(utterance.phones, TEXT)[2]
    lengths = syllable_lengths(utterance.phones, unit, 12)
    consonants = sum(n for i, n in zip(unit.phones, lengths, strict=True) if i != unit.nucleus)
    assert sum(lengths) == 12
    assert consonants <= round(CONSONANT_SHARE * 12) + 1


def test_spoken_plan_reproduces_the_teacher_timing() -> None:
    utterance = speak(TEXT)
    plan = spoken_plan(utterance.phones, len(utterance.audio))
    assert plan.frames == len(utterance.audio) // HOP
    inside = plan.source >= 0
    # Mapped source frames track output frames one to one (to within rounding).
    assert np.abs(plan.source[inside] - np.flatnonzero(inside)).max() < 1.0


def test_spoken_plans_cover_every_frame_once_at_any_rate() -> None:
    for rate in (120, 151, 187, 220):
        for pitch in (30, 70):
            utterance = speak(TEXT + ", the river runs along the valley.", rate=rate, pitch=pitch)
            plan = spoken_plan(utterance.phones, len(utterance.audio))
            assert plan.frames == len(utterance.audio) // HOP == len(plan.source)
