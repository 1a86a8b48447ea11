"""Closed-vocabulary word error rate of speech through each vocoder (the WER part of the
WaveNet evaluation).

The recogniser, its closed vocabulary and the held-out sentences are vocal-tts's own
(`plugins.vocal_tts.evaluate`: pocketsphinx with a JSGF loop over the sentences' words in any
order, so the acoustics decide). Each sentence is spoken by espeak-ng with the teacher's timing
and intonation, then heard six ways besides espeak-ng itself (the recogniser's ceiling):
- copy synthesis: the espeak-ng audio's own log-mel through the harmonic-plus-noise vocoder
  (given espeak-ng's f0), Griffin-Lim and the WaveNet: the vocoder's error alone;
- text to speech: vocal-tts's acoustic model's mel through the same three (`render`), which is
  what a user hears with `vocoder = neural | griffin-lim | wavenet`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from host.progress import track
from plugins.wavenet.dataset import Clip
from plugins.wavenet.vocoder import WaveNetVocoder

Vocoder = Callable[[Clip, int], np.ndarray]  # evaluate.Vocoder: (clip, seed) -> audio
VOCODERS = ("harmonic_plus_noise", "griffin_lim", "wavenet")
RENDER_NAMES = {"harmonic_plus_noise": "neural", "griffin_lim": "griffin-lim", "wavenet": "wavenet"}


def spoken_clip(text: str, voice: str) -> tuple[Clip, Any]:
    """The sentence as vocal-tts's evaluation speaks it: (espeak-ng clip with its vocal mel and
    f0, the `Prepared` line its acoustic model renders)."""
    from plugins.vocal_tts.evaluate import spoken_prepared
    from plugins.wavenet.dataset import front_end_mel

    prepared = spoken_prepared(text, voice)
    assert prepared.utterance is not None  # spoken_prepared always keeps espeak-ng's audio
    audio = prepared.utterance.audio[: prepared.samples].astype(np.float32)
    mels = {"vocal": front_end_mel("vocal", audio)}
    return Clip(f"spoken:{voice}:{text}", audio, mels, prepared.f0.astype(np.float32)), prepared


def closed_vocabulary_wer(
    texts: Sequence[str],
    voice: str,
    copy_vocoders: dict[str, Vocoder],
    tts: Callable[[Any, str, int], np.ndarray],
) -> dict[str, Any]:
    """WER (%) per system on `texts` with one recogniser whose vocabulary is their words.

    copy_vocoders: name -> vocoder of a clip's vocal mel (`evaluate.voice_vocoders`);
    tts(prepared, vocoder name, seed) -> vocal-tts's rendered line."""
    from plugins.vocal_tts.evaluate import Recogniser, word_error_rate, words_of

    recognise = Recogniser(words_of(texts))
    errors: dict[str, int] = {}
    seconds: dict[str, float] = {}
    words, audio_seconds = 0, 0.0
    examples = []
    for index, text in enumerate(track(texts, "wavenet: spoken WER", unit="sentence")):
        clip, prepared = spoken_clip(text, voice)
        audio_seconds += clip.audio.size / 16_000
        heard = {}
        for system in ("espeak_ng", *(f"{way}_{n}" for n in VOCODERS for way in ("copy", "tts"))):
            way, _, name = system.partition("_")
            started = time.perf_counter()
            if system == "espeak_ng":
                audio = clip.audio
            elif way == "copy":
                audio = copy_vocoders[name](clip, index)
            else:
                audio = tts(prepared, name, index)
            seconds[system] = seconds.get(system, 0.0) + time.perf_counter() - started
            heard[system] = recognise(np.asarray(audio, dtype=np.float64))
            edits, count = word_error_rate(text, heard[system])
            errors[system] = errors.get(system, 0) + edits
        words += count
        examples.append({"text": text, **heard})
    return {
        "sentences": len(texts),
        "voice": voice,
        "words": words,
        "vocabulary_words": len(words_of(texts)),
        "audio_seconds": round(audio_seconds, 1),
        "wer_percent_closed_vocabulary": {
            system: round(100.0 * edits / max(words, 1), 1) for system, edits in errors.items()
        },
        # Vocoding time only (the recogniser's is left out), over the sentences' length.
        "real_time_factor": {
            system: round(taken / max(audio_seconds, 1e-9), 3)
            for system, taken in seconds.items()
            if system != "espeak_ng"
        },
        "examples": examples[:3],
    }


def vocal_tts_renderer(wavenet: WaveNetVocoder) -> Callable[[Any, str, int], np.ndarray]:
    """tts(prepared, vocoder name, seed): vocal-tts's shipped acoustic model and `render`."""
    from plugins.vocal_tts.checkpoint import DEFAULT_CHECKPOINT
    from plugins.vocal_tts.checkpoint import load as load_bundle
    from plugins.vocal_tts.synthesis import render

    bundle = load_bundle(DEFAULT_CHECKPOINT)

    def tts(prepared: Any, name: str, seed: int) -> np.ndarray:
        return render(bundle, prepared, RENDER_NAMES[name], seed=seed, wavenet=wavenet)  # type: ignore[arg-type]

    return tts
