"""SDR as SiSEC reports it: BSS Eval (via fast_bss_eval, 512-tap distortion filter) on 1 s
frames, frames whose reference is silent skipped, median over frames per track; channels are
scored separately and averaged per frame. Also the plain SDR that validation and the training
loss use (one number over a whole excerpt, no distortion filter)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

SILENT_FRAME = 1e-6  # mean power below which a reference frame is silent (-60 dBFS)


def framewise_sdr(
    reference: np.ndarray, estimate: np.ndarray, rate: int, frame_seconds: float = 1.0
) -> float | None:
    """(frames, ch) reference and estimate of one stem -> median SDR over 1 s frames in dB;
    None when every frame of the reference is silent (the stem is absent from the track)."""
    import fast_bss_eval

    n = int(frame_seconds * rate)
    count = reference.shape[0] // n
    if count == 0:
        return None
    ref = reference[: count * n].T.reshape(reference.shape[1], count, n).transpose(1, 0, 2)
    est = estimate[: count * n].T.reshape(estimate.shape[1], count, n).transpose(1, 0, 2)
    loud = np.mean(ref**2, axis=(1, 2)) > SILENT_FRAME
    if not loud.any():
        return None
    ref, est = ref[loud].astype(np.float64), est[loud].astype(np.float64)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        # 10 conjugate-gradient steps instead of a direct 512x512 solve: 7x faster here and
        # within 1e-4 dB of the direct solution (fast_bss_eval's documented accuracy).
        scores = fast_bss_eval.sdr(
            ref[:, :, None, :], est[:, :, None, :], load_diag=1e-10, use_cg_iter=10, clamp_db=100
        )
    per_frame = np.nanmean(np.asarray(scores)[..., 0], axis=1)
    return float(np.nanmedian(per_frame))


def sdr(reference: np.ndarray, estimate: np.ndarray) -> float | None:
    """Plain signal-to-distortion ratio in dB; None when the reference is silent."""
    power = float(np.sum(reference**2))
    if power < 1e-8:
        return None
    error = float(np.sum((reference - estimate) ** 2)) + 1e-12
    return 10 * math.log10(power / error)


def median_frame_sdr(reference: np.ndarray, estimate: np.ndarray, frame: int) -> float | None:
    """Plain SDR per `frame` samples of one signal, silent reference frames skipped, median
    over frames: the evaluation's statistic without its distortion filter, cheap enough for
    validation. None when every frame is silent."""
    count = reference.shape[-1] // frame
    ref = reference[: count * frame].reshape(count, frame).astype(np.float64)
    est = estimate[: count * frame].reshape(count, frame).astype(np.float64)
    loud = np.mean(ref**2, axis=1) > SILENT_FRAME
    if not loud.any():
        return None
    power = np.sum(ref[loud] ** 2, axis=1)
    error = np.sum((ref[loud] - est[loud]) ** 2, axis=1) + 1e-12
    return float(np.median(10 * np.log10(power / error)))


def negative_sdr(
    targets: torch.Tensor, estimates: torch.Tensor, mix: torch.Tensor, segment: int = 0
) -> torch.Tensor:
    """Mean over examples and stems of -SDR in dB, (batch, stems, samples) signals.

    A floor of 1/1000 of the mixture's power per stem keeps silent stems (dropped from a song,
    or a rest in the excerpt) from dominating: their SDR is undefined, and without the floor
    the smallest leak into them would weigh as much as a whole stem's error.

    With `segment` (samples), the SDR is taken per segment and averaged, as the evaluation
    takes it per 1 s frame: then a quiet passage counts as much as a loud one, where one SDR
    over the whole excerpt is ruled by its loudest seconds. The remainder is left out.
    """
    if segment:
        count = targets.shape[-1] // segment
        if count == 0:
            raise ValueError(f"excerpt of {targets.shape[-1]} samples, shorter than a segment")

        def split(x: torch.Tensor) -> torch.Tensor:  # (..., samples) -> (..., count, segment)
            return x[..., : count * segment].unflatten(-1, (count, segment))

        # segments become examples of their own: (batch * count, stems, segment)
        targets = split(targets).movedim(-2, 1).flatten(0, 1)
        estimates = split(estimates).movedim(-2, 1).flatten(0, 1)
        mix = split(mix).flatten(0, 1)
    # (+1e-9: a silent segment of a sparse mix scores 0 dB, not 0/0)
    floor = 1e-3 * mix.pow(2).sum(-1, keepdim=True) / targets.shape[1] + 1e-9
    power = targets.pow(2).sum(-1) + floor
    error = (targets - estimates).pow(2).sum(-1) + floor
    return -10 * torch.log10(power / error).mean()
