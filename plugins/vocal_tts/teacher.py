"""Teacher examples: a teacher's speech, and sung versions of it made with WORLD.

A sung example keeps the teacher's spectral envelope and aperiodicity, moved along the timing
plan (vowels held to fill notes) and re-voiced at the melody's pitch. The same plan and pitch
code runs at inference, so the network learns exactly the mapping it is later asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyworld

from plugins.vocal_tts.audio import FRAME_PERIOD_MS, HOP, SAMPLE_RATE
from plugins.vocal_tts.espeak import Utterance
from plugins.vocal_tts.phonemes import syllables
from plugins.vocal_tts.pitch import _fit, analyse_f0, sung_f0, voicing
from plugins.vocal_tts.plan import Plan, gather, placed_plan, spoken_plan
from plugins.vocal_tts.voices import MELODY_RANGE, VOICE_TABLE, register_of

# The espeak-ng voices by name (the other teachers are in voices.VOICE_TABLE).
VOICES = {
    name: voice.engine_voice for name, voice in VOICE_TABLE.items() if voice.engine == "espeak-ng"
}


@dataclass
class Example:
    symbols: list[str]
    durations: np.ndarray  # frames per phoneme
    f0: np.ndarray  # Hz per frame, 0 unvoiced
    audio: np.ndarray  # float32, frames * HOP samples
    speaker: int
    sung: bool


def _frames(utterance: Utterance) -> int:
    return len(utterance.audio) // HOP


def spoken_example(utterance: Utterance, speaker: int) -> Example:
    frames = _frames(utterance)
    plan = spoken_plan(utterance.phones, frames * HOP)
    f0 = analyse_f0(utterance.audio[: frames * HOP], frames)
    return Example(
        plan.symbols, plan.durations, f0, utterance.audio[: frames * HOP].copy(), speaker, False
    )


def world_analysis(audio: np.ndarray, frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = audio.astype(np.float64)
    f0 = analyse_f0(audio, frames)
    times = np.arange(frames) * FRAME_PERIOD_MS / 1000.0
    sp = pyworld.cheaptrick(x, f0, times, SAMPLE_RATE)
    ap = pyworld.d4c(x, f0, times, SAMPLE_RATE)
    return f0, sp, ap


def random_melody(
    count: int, voice: str, rng: np.random.Generator
) -> tuple[list[float], list[tuple[int, int]], int]:
    """Note pitches and frame spans for `count` syllables: lengths 0.12-1.2 s, some rests."""
    low, high = MELODY_RANGE[register_of(voice)]
    pitch = float(rng.integers(low + 3, high - 3))
    cursor = int(rng.integers(5, 30))
    pitches, spans = [], []
    for _ in range(count):
        length = int(np.exp(rng.uniform(np.log(12), np.log(120))))
        pitches.append(pitch)
        spans.append((cursor, cursor + length))
        cursor += length + (int(rng.integers(5, 40)) if rng.random() < 0.2 else 0)
        pitch = float(
            np.clip(pitch + rng.choice([-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 7]), low, high)
        )
    return pitches, spans, cursor + int(rng.integers(5, 30))


def sung_example(
    utterance: Utterance,
    text: str,
    voice: str,
    speaker: int,
    rng: np.random.Generator,
    analysis: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    max_seconds: float = 7.0,
) -> Example | None:
    """A sung version on a random melody; `analysis` is `world_analysis` of the utterance,
    passed in when several sung versions share one sentence."""
    frames = _frames(utterance)
    units = syllables(utterance.phones, text)
    if not units:
        return None
    f0_src, sp, ap = analysis or world_analysis(utterance.audio[: frames * HOP], frames)
    pitches, spans, total = random_melody(len(units), voice, rng)
    while total * HOP > max_seconds * SAMPLE_RATE and len(units) > 1:  # keep examples short
        units, pitches, spans = units[:-1], pitches[:-1], spans[:-1]
        total = spans[-1][1] + 10
    plan = placed_plan(utterance.phones, units, spans, total)
    voiced = voicing(plan, f0_src)
    vibrato = float(rng.uniform(10, 60)) if rng.random() < 0.4 else 0.0
    f0 = sung_f0(plan, voiced, pitches, spans, vibrato, float(rng.uniform(4.5, 6.5)))
    audio = resynthesise(plan, f0, sp, ap)
    return Example(plan.symbols, plan.durations, f0, audio, speaker, True)


def resynthesise(plan: Plan, f0: np.ndarray, sp: np.ndarray, ap: np.ndarray) -> np.ndarray:
    log_sp = gather(np.log(np.maximum(sp, 1e-16)), plan.source, np.log(1e-16))
    ap_out = gather(ap, plan.source, 1.0)
    audio = pyworld.synthesize(
        f0.astype(np.float64),
        np.ascontiguousarray(np.exp(log_sp)),
        np.ascontiguousarray(np.clip(ap_out, 0.0, 1.0)),
        SAMPLE_RATE,
        FRAME_PERIOD_MS,
    )
    return _fit(audio.astype(np.float32), plan.frames * HOP)
