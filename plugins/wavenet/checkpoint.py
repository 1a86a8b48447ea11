"""Save and load the WaveNet: its config, weights and how it was trained, in one file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from plugins.wavenet.network import WaveNet, WaveNetConfig

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "wavenet.pt"


def save(model: WaveNet, path: Path, info: dict[str, Any] | None = None) -> None:
    """Write then rename, so a reader never sees half a checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name("partial-" + path.name)
    torch.save(
        {"config": model.config.as_dict(), "state": model.state_dict(), "info": info or {}},
        temporary,
    )
    os.replace(temporary, path)


def load(path: Path = DEFAULT_CHECKPOINT) -> tuple[WaveNet, dict[str, Any]]:
    data = torch.load(path, map_location="cpu", weights_only=True)
    model = WaveNet(WaveNetConfig.from_dict(data["config"]))
    model.load_state_dict(data["state"])
    model.eval()
    return model, data["info"]
