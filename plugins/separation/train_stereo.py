"""Loss and validation for the stereo refiner (stereo.py). The mask network underneath runs on
the mid channel; unless it is in training mode (fine-tuned together with the refiner) it runs
without gradients and stays as it is."""

from __future__ import annotations

import numpy as np
import torch

from plugins.separation.dataset import is_stereo
from plugins.separation.metrics import median_frame_sdr, negative_sdr, sdr
from plugins.separation.network import MMDenseNet
from plugins.separation.spectral import internal_istft, internal_spectrum
from plugins.separation.stems import INTERNAL_RATE, STEMS
from plugins.separation.stereo import StereoRefiner, stereo_masks


def stereo_loss(
    network: MMDenseNet,
    refiner: StereoRefiner | None,
    mix: torch.Tensor,
    targets: torch.Tensor,
    sdr_weight: float = 0.0,
    sdr_segment: int = 0,
) -> torch.Tensor:
    """As train.loss_fn, per channel: (batch, channels, samples) mixtures, (batch, stems,
    channels, samples) targets. Without a refiner, both channels get the network's masks."""
    masks, spec = stereo_masks(network, refiner, mix)
    masks = masks.transpose(1, 2)  # (batch, stems, channels, bins, frames), as the targets
    target_mag = internal_spectrum(targets)[..., :-1, :].abs()
    loss = (masks * spec.abs()[:, None] - target_mag).abs().mean()
    if sdr_weight:
        estimates = internal_istft(masks * spec[:, None], mix.shape[-1])
        # every channel of every example scored as an example of its own
        loss = loss + sdr_weight * negative_sdr(
            targets.transpose(1, 2).flatten(0, 1),
            estimates.transpose(1, 2).flatten(0, 1),
            mix.flatten(0, 1),
            sdr_segment,
        )
    return loss


@torch.no_grad()
def validate_stereo(
    network: MMDenseNet,
    refiner: StereoRefiner,
    songs: dict[str, np.ndarray],
    seconds: float = 6.0,
) -> dict[str, float]:
    """Mean plain SDR per stem over songs and channels of the first `seconds` of each song,
    and (`framewise_*`) the mean of their medians over 1 s frames, as the evaluation counts."""
    network_was_training, refiner_was_training = network.training, refiner.training
    network.eval()
    refiner.eval()
    scores: dict[str, list[float]] = {s: [] for s in STEMS}
    framewise: dict[str, list[float]] = {s: [] for s in STEMS}
    for song in songs.values():
        if not is_stereo(song):
            raise ValueError("stereo validation needs songs stored in stereo; rebuild the data")
        n = min(song.shape[-1], int(seconds * INTERNAL_RATE))
        stems = song[..., :n].astype(np.float32)  # (stems, channels, samples)
        mix = torch.from_numpy(stems.sum(0))[None]
        masks, spec = stereo_masks(network, refiner, mix)
        estimates = internal_istft(masks[0].transpose(0, 1) * spec[0][None], n).numpy()
        for i, stem in enumerate(STEMS):
            for channel in range(stems.shape[1]):
                reference, estimate = stems[i, channel], estimates[i, channel]
                if (value := sdr(reference, estimate)) is not None:
                    scores[stem].append(value)
                if (median := median_frame_sdr(reference, estimate, INTERNAL_RATE)) is not None:
                    framewise[stem].append(median)
    refiner.train(refiner_was_training)
    network.train(network_was_training)
    result = {s: float(np.mean(v)) for s, v in scores.items() if v}
    result["mean"] = float(np.mean(list(result.values())))
    by_frame = {s: float(np.mean(v)) for s, v in framewise.items() if v}
    if not by_frame:
        raise ValueError(f"no val song has a second of sound in its first {seconds} s")
    result |= {f"framewise_{s}": v for s, v in by_frame.items()}
    result["framewise_mean"] = float(np.mean(list(by_frame.values())))
    return result
