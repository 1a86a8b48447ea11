"""Saving and loading the beat network: config, weights, decoding settings and training facts
in one torch file, written atomically (a crash mid-save keeps the old one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from host.training import save_atomic
from plugins.analyze.network import BeatNet, NetConfig

DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "analyze.pt"


def save(path: Path, net: BeatNet, extra: dict[str, Any]) -> None:
    save_atomic(path, {"config": net.config.as_dict(), "state_dict": net.state_dict(), **extra})


def load(path: Path) -> tuple[BeatNet, dict[str, Any]]:
    payload = torch.load(path, map_location="cpu", weights_only=False)
    config = dict(payload["config"])
    config["dilations"] = tuple(config["dilations"])
    net = BeatNet(NetConfig(**config))
    net.load_state_dict(payload["state_dict"])
    net.eval()
    return net, payload
