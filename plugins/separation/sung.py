"""Vocals sung by dawhost's own vocal-tts plugin, for training songs: the song's melody with
made-up one-syllable lyrics, in whichever voice (female or male) fits the line's range.

FluidSynth's voice programs only hum a vowel; these lines have consonants, words and a human
formant structure, so the network also learns what a sung word looks like.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import numpy as np
from scipy.signal import resample_poly

from host import BadInput, Note
from plugins.separation.arrangement import Song
from plugins.vocal_tts.melody import VOICE_RANGE

if TYPE_CHECKING:
    from plugins.vocal_tts.checkpoint import Bundle

# Words espeak-ng reads as one syllable each, so the syllable count is the word count.
WORDS = (
    "la love day night sun moon home go see my you heart rain sky blue dream stay come "
    "light down run high time "
).split()
MAX_BARS = 32  # the longest line vocal-tts renders in one request


@functools.cache  # loaded once per build process
def _bundle() -> Bundle:
    from plugins.vocal_tts.checkpoint import DEFAULT_CHECKPOINT, load

    return load(DEFAULT_CHECKPOINT)


def fit_to_voice(pitches: list[int]) -> tuple[str, int]:
    """(voice, octave shift in semitones) that puts the line's median in a voice's range."""
    median = float(np.median(pitches))
    voice = "female" if median >= 60 else "male"
    low, high = VOICE_RANGE[voice]
    shift = 12 * round(((low + high) / 2 - median) / 12)
    return voice, shift


def sung_melody(
    song: Song, beats_per_bar: float, rate: int, frames: int, rng: np.random.Generator
) -> np.ndarray | None:
    """The song's vocal line sung by vocal-tts: mono float32 (frames,) at `rate`, or None when
    the line has no notes the voice can sing."""
    from plugins.vocal_tts.audio import SAMPLE_RATE
    from plugins.vocal_tts.synthesis import Request, prepare, render

    events = [e for p in song.parts if p.stem == "vocals" for e in p.events]
    if not events:
        return None
    voice, shift = fit_to_voice([e.pitch for e in events])
    low, high = VOICE_RANGE[voice]
    notes = [
        Note(e.pitch + shift, e.velocity, e.start, e.duration)
        for e in sorted(events, key=lambda e: e.start)
        if low <= e.pitch + shift <= high
    ]
    if not notes:
        return None
    bars = min(MAX_BARS, max(1, math.ceil(song.beats / beats_per_bar)))
    words = max(1, int(len(notes) * rng.uniform(0.6, 1.0)))
    lyrics = " ".join(str(w) for w in rng.choice(WORDS, size=words))
    request = Request(
        lyrics=lyrics,
        mode="sing",
        notes=notes,
        tempo=song.tempo,
        beats_per_bar=beats_per_bar,
        bars=bars,
        voice=voice,
        vibrato=float(rng.uniform(0, 60)),
    )
    try:
        prepared = prepare(request)
    except BadInput:
        return None  # e.g. the bars run past vocal-tts's 60 s limit at a slow tempo
    audio = render(_bundle(), prepared, "neural", seed=int(rng.integers(1 << 30)))
    g = math.gcd(rate, SAMPLE_RATE)
    audio = resample_poly(audio, rate // g, SAMPLE_RATE // g).astype(np.float32)
    return np.pad(audio, (0, max(0, frames - len(audio))))[:frames]
