"""Saving and loading separation checkpoints: network config, weights and training record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from plugins.separation.network import MMDenseNet, NetworkConfig
from plugins.separation.stems import HOP, INTERNAL_RATE, N_FFT, STEMS

DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "separation.pt"


def save_checkpoint(path: Path, network: MMDenseNet, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "config": network.config.as_dict(),
        "state_dict": {k: v.detach().clone() for k, v in network.state_dict().items()},
        "stft": {"rate": INTERNAL_RATE, "n_fft": N_FFT, "hop": HOP, "stems": list(STEMS)},
        "record": record,
    }
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path) -> tuple[MMDenseNet, dict[str, Any]]:
    """The network in eval mode and its training record. Refuses checkpoints made for another
    STFT or stem list (they would load without error and separate nonsense)."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    stft = payload["stft"]
    expected = {"rate": INTERNAL_RATE, "n_fft": N_FFT, "hop": HOP, "stems": list(STEMS)}
    if stft != expected:
        raise ValueError(f"checkpoint {path} was trained for {stft}, this code uses {expected}")
    network = MMDenseNet(NetworkConfig(**payload["config"]))
    network.load_state_dict(payload["state_dict"])
    network.eval()
    return network, payload["record"]
