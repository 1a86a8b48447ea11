"""The measuring tools of the evaluation: word error counting and onset detection."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.vocal_tts.audio import SAMPLE_RATE
from plugins.vocal_tts.evaluate import word_error_rate
from plugins.vocal_tts.onsets import detect_onsets, onset_errors


def test_word_errors_count_substitutions_insertions_and_deletions() -> None:
    assert word_error_rate("the cat sat", "the cat sat") == (0, 3)
    assert word_error_rate("the cat sat", "a cat sat down") == (2, 3)
    assert word_error_rate("The cat, sat.", "") == (3, 3)


def test_onsets_of_plucked_tones_are_found_within_5_ms() -> None:
    audio = np.zeros(3 * SAMPLE_RATE)
    starts = [0.5, 1.0, 1.7, 2.2]
    n = np.arange(int(0.3 * SAMPLE_RATE))
    tone = np.sin(2 * np.pi * 220 * n / SAMPLE_RATE) * np.exp(-3 * n / SAMPLE_RATE)
    for start in starts:
        at = int(start * SAMPLE_RATE)
        audio[at : at + len(n)] += tone * np.minimum(1.0, n / 80)
    errors, missed = onset_errors(np.array(starts), detect_onsets(audio.astype(np.float32)))
    assert missed == 0 and errors.max() < 0.005
    late, missed = onset_errors(np.array(starts) + 0.3, np.array(starts), tolerance=0.1)
    assert missed == 4 and late.size == 0


@pytest.mark.parametrize("pruned", [False, True])
def test_closed_vocabulary_recogniser_hears_only_those_words(pruned: bool) -> None:
    """espeak-ng saying sentences, each recognised with a grammar of its words and two decoys:
    the decoys must not appear, and most words must be recognised. espeak-ng's output varies by
    a few samples from call to call, and with the male voice that alone moved the errors between
    4 and 9 of these 20 words (the last word dropped, "seven" heard as "the on"); the female
    voice measured 0-3 in the same runs, so it is the one that can show a broken recogniser."""
    from plugins.vocal_tts.espeak import speak
    from plugins.vocal_tts.evaluate import Recogniser, words_of
    from plugins.vocal_tts.teacher import VOICES

    texts = [
        "seven green apples on the table",
        "the river runs under a silver moon",
        "open the window and sing with me",
    ]
    errors = words = 0
    for text in texts:
        vocabulary = words_of([text, "purple engine"])
        heard = Recogniser(vocabulary, pruned)(speak(text, VOICES["female"], 150, 50).audio)
        assert "purple" not in heard and "engine" not in heard, heard
        assert set(heard.split()) <= set(vocabulary)
        wrong, count = word_error_rate(text, heard)
        errors, words = errors + wrong, words + count
    assert errors <= words // 4, (errors, words)


def test_recognition_does_not_depend_on_what_was_decoded_before() -> None:
    """One utterance recognised by a fresh recogniser and by one that first decoded two other
    voices (one of them quiet): the same words and the same score. pocketsphinx's noise
    estimate (`-remove_noise yes` in the model's feat.params) used to carry from one utterance
    into the next, so the score differed (0.53855 alone, 0.53845 after) and on real evaluations
    a voice's WER depended on the voices decoded before it."""
    from plugins.vocal_tts.espeak import speak
    from plugins.vocal_tts.evaluate import Recogniser, words_of
    from plugins.vocal_tts.teacher import VOICES

    texts = [
        "seven green apples on the table",
        "the river runs under a silver moon",
        "open the window and sing with me",
    ]
    target = speak(texts[0], VOICES["female"], 150, 50).audio
    before = [
        speak(texts[1], VOICES["male"], 200, 20).audio,
        0.05 * speak(texts[2], VOICES["male"], 120, 80).audio,
    ]
    alone = Recogniser(words_of(texts), pruned=True)
    heard_alone = alone(target)
    after = Recogniser(words_of(texts), pruned=True)
    for audio in before:
        after(audio)
    assert after(target) == heard_alone
    assert alone.score is not None and after.score == alone.score
    assert alone(target) == heard_alone and alone.score == after.score  # and again, same decoder
