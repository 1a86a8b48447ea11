"""A tiny untrained vocal_tts checkpoint: real code paths, no training data needed.

Untrained weights make noise shaped by chance, but the harmonic vocoder still places its
partials at exactly the requested f0, so lengths, timings and pitch are all testable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from plugins.vocal_tts.acoustic import AcousticConfig, AcousticModel
from plugins.vocal_tts.audio import N_MELS
from plugins.vocal_tts.checkpoint import Bundle, save
from plugins.vocal_tts.espeak import speak
from plugins.vocal_tts.festival import PHONES
from plugins.vocal_tts.phonemes import Vocabulary
from plugins.vocal_tts.vocoder import HarmonicPlusNoise, VocoderConfig
from plugins.vocal_tts.voices import VOICE_NAMES

SENTENCE = "The quick brown fox jumps over the lazy dog while we sing a little song tonight."


@pytest.fixture(scope="session")
def tiny_bundle() -> Bundle:
    torch.manual_seed(0)
    vocabulary = Vocabulary([p.symbol for p in speak(SENTENCE).phones] + PHONES)
    acoustic = AcousticModel(
        AcousticConfig(
            len(vocabulary),
            speakers=len(VOICE_NAMES),
            width=16,
            encoder_layers=1,
            decoder_layers=1,
        )
    )
    vocoder = HarmonicPlusNoise(VocoderConfig(harmonics=8, noise_bands=4, width=16, layers=1))
    acoustic.eval()
    vocoder.eval()
    return Bundle(
        vocabulary,
        acoustic,
        vocoder,
        np.zeros(N_MELS, np.float32),
        np.ones(N_MELS, np.float32),
        {"voices": list(VOICE_NAMES)},
    )


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_bundle: Bundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vocal_tts") / "tiny.pt"
    save(tiny_bundle, path)
    return path
