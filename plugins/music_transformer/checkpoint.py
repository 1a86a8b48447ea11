"""Saving and loading weights: the small shipped checkpoint and the resumable training state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from host.training import save_atomic
from plugins.music_transformer.events import STYLES, VOCAB_SIZE
from plugins.music_transformer.model import ModelConfig, MusicTransformer

PACKAGE = Path(__file__).resolve().parent
DEFAULT_CHECKPOINT = PACKAGE / "checkpoints" / "music_transformer.pt"
BASELINE_CHECKPOINT = PACKAGE / "checkpoints" / "absolute_baseline.pt"


def save_weights(path: Path, model: MusicTransformer, info: dict[str, Any]) -> None:
    """Weights only (fp32), the config and training facts: what the plugin loads."""
    state = {k: v.detach().clone() for k, v in model.state_dict().items() if k != "head.weight"}
    payload = {
        "config": model.config.as_dict(),
        "styles": list(STYLES),
        "model": state,
        "info": info,
    }
    save_atomic(path, payload)


def load_weights(path: Path) -> tuple[MusicTransformer, dict[str, Any]]:
    """A model in eval mode from a checkpoint; raises ValueError if it does not fit this code."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if tuple(payload.get("styles", ())) != STYLES:
        raise ValueError(f"{path} was trained with styles {payload.get('styles')}, not {STYLES}")
    config = ModelConfig(**payload["config"])
    if config.vocab_size != VOCAB_SIZE:
        raise ValueError(f"{path} has vocabulary {config.vocab_size}, expected {VOCAB_SIZE}")
    model = MusicTransformer(config)
    missing, unexpected = model.load_state_dict(payload["model"], strict=False)
    if unexpected or set(missing) - {"head.weight"}:
        raise ValueError(f"{path} does not match the model: missing {missing}, extra {unexpected}")
    model.eval()
    return model, dict(payload.get("info", {}))
