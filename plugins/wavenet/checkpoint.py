"""Save and load the WaveNet: its config, weights and how it was trained, in one file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from host.training import save_atomic
from plugins.wavenet.network import WaveNet, WaveNetConfig

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "wavenet.pt"


def save(model: WaveNet, path: Path, info: dict[str, Any] | None = None) -> None:
    """Written atomically: a reader never sees half a checkpoint."""
    save_atomic(
        path, {"config": model.config.as_dict(), "state": model.state_dict(), "info": info or {}}
    )


def load(path: Path = DEFAULT_CHECKPOINT) -> tuple[WaveNet, dict[str, Any]]:
    data = torch.load(path, map_location="cpu", weights_only=True)
    model = WaveNet(WaveNetConfig.from_dict(data["config"]))
    model.load_state_dict(data["state"])
    model.eval()
    return model, data["info"]
