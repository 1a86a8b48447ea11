"""One front door to every teacher synthesiser: a voice name in, aligned speech out.

espeak-ng, Festival and flite each return an `Utterance` (16 kHz audio plus phones with their
sample spans and word positions), levelled to the same loudness so that the voices differ in
timbre, not in gain. Festival voices are spoken in batches (one process per batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from plugins.vocal_tts import espeak, festival, flite
from plugins.vocal_tts.espeak import Utterance
from plugins.vocal_tts.voices import VOICE_TABLE

TARGET_RMS_DB = -20.0  # every teacher's speech is levelled to this RMS (dBFS)
ESPEAK_PITCH = {"male": 45, "female": 55}  # espeak-ng pitch setting (0..100) per register


def levelled(utterance: Utterance) -> Utterance:
    audio = utterance.audio
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2))) if audio.size else 0.0
    if rms < 1e-6:
        return utterance
    gain = 10 ** (TARGET_RMS_DB / 20) / rms
    peak = float(np.abs(audio).max()) * gain
    if peak > 0.99:  # never clip: a peaky teacher stays a little quieter
        gain *= 0.99 / peak
    return replace(utterance, audio=(audio * gain).astype(np.float32))


def speak(
    text: str,
    voice: str,
    rate: int = 170,
    pitch: int | None = None,
    pitch_range: int = 50,
) -> Utterance:
    """`text` spoken by the teacher of `voice` at about `rate` words per minute. `pitch` and
    `pitch_range` (0..100) only steer espeak-ng; other teachers keep their own intonation."""
    return speak_many([text], voice, rate, pitch, pitch_range)[0]


def speak_many(
    texts: Sequence[str],
    voice: str,
    rate: int = 170,
    pitch: int | None = None,
    pitch_range: int = 50,
) -> list[Utterance]:
    entry = VOICE_TABLE[voice]
    if entry.engine == "festival":
        spoken = festival.speak_many(texts, entry.engine_voice, rate)
    elif entry.engine == "flite":
        spoken = [flite.speak(text, entry.engine_voice, rate) for text in texts]
    else:
        level = ESPEAK_PITCH[entry.register] if pitch is None else pitch
        spoken = [
            espeak.speak(text, entry.engine_voice, rate, level, pitch_range) for text in texts
        ]
    return [levelled(u) for u in spoken]
