"""Saving and loading the transcription network: config, weights, decoding thresholds and
training facts in one torch file, written atomically (a crash mid-save keeps the old one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from host.training import save_atomic
from plugins.transcribe.network import NetConfig, TranscriptionNet

DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "transcribe.pt"


def save(path: Path, net: TranscriptionNet, extra: dict[str, Any]) -> None:
    save_atomic(path, {"config": net.config.as_dict(), "state_dict": net.state_dict(), **extra})


def load(path: Path) -> tuple[TranscriptionNet, dict[str, Any]]:
    payload = torch.load(path, map_location="cpu", weights_only=False)
    config = dict(payload["config"])
    config["dilations"] = tuple(config["dilations"])
    net = TranscriptionNet(NetConfig(**config))
    net.load_state_dict(payload["state_dict"])
    net.eval()
    return net, payload
