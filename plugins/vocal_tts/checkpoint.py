"""Saving and loading the vocal_tts checkpoint: both networks, the phoneme vocabulary and the
mel normalisation, in one file that needs no training data to load."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from host.training import save_atomic
from plugins.vocal_tts.acoustic import AcousticConfig, AcousticModel
from plugins.vocal_tts.phonemes import Vocabulary
from plugins.vocal_tts.vocoder import HarmonicPlusNoise, VocoderConfig

DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "vocal_tts.pt"


@dataclass
class Bundle:
    vocabulary: Vocabulary
    acoustic: AcousticModel
    vocoder: HarmonicPlusNoise
    mel_mean: np.ndarray
    mel_std: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)


def save(bundle: Bundle, path: Path) -> None:
    """Write atomically (a reader never sees half a file), weights in float16 halves size."""
    state = {
        "vocabulary": bundle.vocabulary.symbols[3:],
        "mel_mean": bundle.mel_mean.tolist(),
        "mel_std": bundle.mel_std.tolist(),
        "acoustic_config": bundle.acoustic.config.as_dict(),
        "acoustic": {k: v.half() for k, v in bundle.acoustic.state_dict().items()},
        "vocoder_config": bundle.vocoder.config.as_dict(),
        "vocoder": {k: v.half() for k, v in bundle.vocoder.state_dict().items()},
        "stats": bundle.stats,
    }
    save_atomic(path, state)


def load(path: Path) -> Bundle:
    state = torch.load(path, map_location="cpu", weights_only=True)
    acoustic = AcousticModel(AcousticConfig(**state["acoustic_config"]))
    acoustic.load_state_dict({k: v.float() for k, v in state["acoustic"].items()})
    vocoder = HarmonicPlusNoise(VocoderConfig(**state["vocoder_config"]))
    vocoder.load_state_dict({k: v.float() for k, v in state["vocoder"].items()})
    acoustic.eval()
    vocoder.eval()
    return Bundle(
        Vocabulary(state["vocabulary"]),
        acoustic,
        vocoder,
        np.asarray(state["mel_mean"], dtype=np.float32),
        np.asarray(state["mel_std"], dtype=np.float32),
        state.get("stats", {}),
    )


def knows_voice(bundle: Bundle, voice: str) -> bool:
    """Whether `bundle` was trained with `voice` (checkpoints from before the voice table know
    only the two espeak-ng voices, as speakers 0 and 1)."""
    trained = bundle.stats.get("voices")
    if trained is not None:
        return voice in trained
    return voice in ("male", "female") and bundle.acoustic.config.speakers >= 2


def voices_of(bundle: Bundle) -> list[str]:
    trained = bundle.stats.get("voices")
    return list(trained) if trained is not None else ["male", "female"]
