"""Saving and loading separation checkpoints: network config, weights and training record, and
optionally a stereo refiner trained on top of the network (stereo.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from host.training import save_atomic
from plugins.separation.network import MMDenseNet, NetworkConfig
from plugins.separation.stems import HOP, INTERNAL_RATE, N_FFT, STEMS
from plugins.separation.stereo import RefinerConfig, StereoRefiner

DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "separation.pt"


def _weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def save_checkpoint(
    path: Path,
    network: MMDenseNet,
    record: dict[str, Any],
    refiner: StereoRefiner | None = None,
) -> None:
    payload: dict[str, Any] = {
        "config": network.config.as_dict(),
        "state_dict": _weights(network),
        "stft": {"rate": INTERNAL_RATE, "n_fft": N_FFT, "hop": HOP, "stems": list(STEMS)},
        "record": record,
    }
    if refiner is not None:
        payload["stereo_refiner"] = {
            "config": refiner.config.as_dict(),
            "state_dict": _weights(refiner),
        }
    save_atomic(path, payload)


def load_checkpoint(path: Path) -> tuple[MMDenseNet, dict[str, Any]]:
    """The network in eval mode and its training record. Refuses checkpoints made for another
    STFT or stem list (they would load without error and separate nonsense)."""
    network, _, record = load_with_refiner(path)
    return network, record


def load_with_refiner(path: Path) -> tuple[MMDenseNet, StereoRefiner | None, dict[str, Any]]:
    """As load_checkpoint, plus the stereo refiner in eval mode, or None when the checkpoint
    has none (mid masks for both channels, as checkpoints before it)."""
    payload: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    stft = payload["stft"]
    expected = {"rate": INTERNAL_RATE, "n_fft": N_FFT, "hop": HOP, "stems": list(STEMS)}
    if stft != expected:
        raise ValueError(f"checkpoint {path} was trained for {stft}, this code uses {expected}")
    network = MMDenseNet(NetworkConfig(**payload["config"]))
    network.load_state_dict(payload["state_dict"])
    network.eval()
    refiner = None
    if (saved := payload.get("stereo_refiner")) is not None:
        refiner = StereoRefiner(RefinerConfig(**saved["config"]))
        refiner.load_state_dict(saved["state_dict"])
        refiner.eval()
    return network, refiner, payload["record"]
