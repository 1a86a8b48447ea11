"""Lyrics to phonemes and syllables through espeak-ng."""

from __future__ import annotations

from plugins.vocal_tts.audio import SAMPLE_RATE
from plugins.vocal_tts.espeak import speak
from plugins.vocal_tts.phonemes import SILENCE, UNKNOWN, Vocabulary, is_vowel, syllables


def test_syllables_follow_the_vowels_of_each_word() -> None:
    text = "Twinkle twinkle little star"
    units = syllables(speak(text).phones, text)
    assert [u.text for u in units] == ["Twinkle"] * 2 + ["twinkle"] * 2 + ["little"] * 2 + ["star"]
    phones = speak(text).phones
    for unit in units:
        vowels = [i for i in unit.phones if is_vowel(phones[i].symbol)]
        assert vowels == [unit.nucleus]


def test_phones_are_timed_in_order_inside_the_audio() -> None:
    utterance = speak("Hello world")
    starts = [p.start for p in utterance.phones]
    assert starts == sorted(starts)
    assert all(p.end > p.start for p in utterance.phones)
    assert utterance.phones[-1].end <= len(utterance.audio)
    assert 0.5 < len(utterance.audio) / SAMPLE_RATE < 2.5


def test_clusters_split_after_their_first_consonant() -> None:
    text = "extra"
    phones = speak(text).phones
    first, second = syllables(phones, text)
    assert [phones[i].symbol for i in first.phones][-1] == "k"
    assert [phones[i].symbol for i in second.phones][:3] == ["s", "t", "r"]


def test_vocabulary_maps_pauses_to_silence_and_strangers_to_unknown() -> None:
    vocabulary = Vocabulary(["a", "b"])
    assert vocabulary.id("_:") == vocabulary.id(SILENCE) == 2
    assert vocabulary.symbols[vocabulary.id("zz")] == UNKNOWN
    assert vocabulary.symbols[vocabulary.id("b")] == "b"
