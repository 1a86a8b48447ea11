"""Phoneme symbols and syllables: espeak-ng mnemonics grouped into words and syllables.

A syllable is one vowel nucleus with the consonants around it; between two vowels a single
consonant starts the next syllable and a cluster is split after its first consonant (a simple
maximal-onset rule that is right for most English words).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from plugins.vocal_tts.espeak import Phone

SILENCE = "_"
PAD = "<pad>"
UNKNOWN = "<unk>"
_VOWEL_STARTS = set("aeiouAEIOUV@03")


def is_pause(symbol: str) -> bool:
    return symbol.startswith("_")


def is_vowel(symbol: str) -> bool:
    return bool(symbol) and symbol[0] in _VOWEL_STARTS


@dataclass(frozen=True)
class Syllable:
    """Indices into the utterance's phone list, and the word it belongs to."""

    phones: tuple[int, ...]
    nucleus: int  # index (into the utterance's phone list) of the vowel
    word: int  # word number, 0-based
    text: str  # the word's text


def syllables(phones: Sequence[Phone], text: str) -> list[Syllable]:
    """Group spoken phones into syllables; pauses are left out."""
    words: dict[int, list[int]] = {}
    for index, phone in enumerate(phones):
        if not is_pause(phone.symbol):
            words.setdefault(phone.word_position, []).append(index)
    result: list[Syllable] = []
    for word_number, (position, members) in enumerate(sorted(words.items())):
        word_text = _word_at(text, position)
        vowels = [i for i in members if is_vowel(phones[i].symbol)]
        if not vowels:  # a vowel-less word (rare): its consonants join the previous syllable
            if result:
                last = result[-1]
                result[-1] = Syllable(
                    last.phones + tuple(members), last.nucleus, last.word, last.text
                )
            continue
        cuts = []  # where each syllable after the first begins
        for left, right in zip(vowels, vowels[1:], strict=False):
            between = right - left - 1
            cuts.append(right if between == 0 else right - between + min(1, between - 1))
        bounds = [members[0], *cuts, members[-1] + 1]
        for k, nucleus in enumerate(vowels):
            span = tuple(i for i in members if bounds[k] <= i < bounds[k + 1])
            result.append(Syllable(span, nucleus, word_number, word_text))
    return result


def _word_at(text: str, position: int) -> str:
    """The word starting at espeak's 1-based character position."""
    start = max(0, position - 1)
    end = start
    while end < len(text) and (text[end].isalnum() or text[end] in "'-"):
        end += 1
    return text[start:end] or text[start : start + 1]


class Vocabulary:
    """Phoneme symbol <-> id; id 0 pads, 1 is unknown, 2 is silence."""

    def __init__(self, symbols: Sequence[str]) -> None:
        self.symbols = [PAD, UNKNOWN, SILENCE, *sorted(set(symbols) - {PAD, UNKNOWN, SILENCE})]
        self._ids = {s: i for i, s in enumerate(self.symbols)}

    def __len__(self) -> int:
        return len(self.symbols)

    def id(self, symbol: str) -> int:
        if is_pause(symbol):
            return self._ids[SILENCE]
        return self._ids.get(symbol, self._ids[UNKNOWN])
