"""The WER part of the WaveNet evaluation: one recogniser, the same sentences for every system;
stand-in vocoders whose answers are known (the clip itself, silence) check the bookkeeping."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugins.wavenet.dataset import Clip
from plugins.wavenet.intelligibility import VOCODERS, closed_vocabulary_wer, spoken_clip

TEXTS = ["Also run the tabnanny to catch any inconsistent tabs."]


def test_spoken_clip_matches_its_line() -> None:
    clip, prepared = spoken_clip(TEXTS[0], "female")
    assert clip.audio.size == prepared.samples
    assert clip.mels["vocal"].shape == (prepared.samples // 160, 80)
    assert clip.f0 is not None and clip.f0.size == prepared.samples // 160


def test_every_system_is_scored_on_the_same_words() -> None:
    def itself(clip: Clip, seed: int) -> np.ndarray:
        return clip.audio

    def silence(clip: Clip, seed: int) -> np.ndarray:
        return np.zeros_like(clip.audio)

    def tts(prepared: Any, name: str, seed: int) -> np.ndarray:
        return prepared.utterance.audio[: prepared.samples]

    copies = {name: itself for name in VOCODERS} | {"wavenet": silence}
    report = closed_vocabulary_wer(TEXTS, "female", copies, tts)
    wer = report["wer_percent_closed_vocabulary"]
    assert report["words"] == 9 and report["sentences"] == 1
    assert set(wer) == {"espeak_ng"} | {f"{w}_{n}" for n in VOCODERS for w in ("copy", "tts")}
    # The clip itself is heard as espeak-ng is; silence gets no word right.
    assert wer["copy_harmonic_plus_noise"] == wer["tts_wavenet"] == wer["espeak_ng"] < 50
    assert wer["copy_wavenet"] == 100.0
