"""Multichannel Wiener filtering of first-pass stem estimates (as in the SiSEC 2018 MMDenseLSTM
entry and the norbert package): each stem gets a power spectral density and a spatial
covariance per frequency, and the mixture is split by the resulting per-bin linear filters.
Estimates sum to the mixture (up to the regulariser) and keep stereo images coherent."""

from __future__ import annotations

import torch

EPS = 1e-10


def wiener(estimates: torch.Tensor, mixture: torch.Tensor, iterations: int = 1) -> torch.Tensor:
    """estimates: complex (stems, channels, bins, frames); mixture: complex (channels, bins,
    frames). Returns refined complex estimates of the same shape."""
    y = estimates
    channels = mixture.shape[0]
    eye = torch.eye(channels, dtype=mixture.dtype)
    for _ in range(iterations):
        psd = y.abs().pow(2).mean(dim=1)  # (stems, bins, frames)
        # spatial covariance per stem and bin, normalised by the stem's total power
        cov = torch.einsum("jcft,jdft->jfcd", y, y.conj())
        cov = cov / (psd.sum(dim=-1)[..., None, None] + EPS)
        mix_cov = torch.einsum("jft,jfcd->ftcd", psd.to(cov.dtype), cov)
        scale = mix_cov.diagonal(dim1=-2, dim2=-1).real.mean(-1)[..., None, None]
        inverse = torch.linalg.inv(mix_cov + (scale * 1e-6 + EPS) * eye)
        gain = torch.einsum("jft,jfcd,ftde->jftce", psd.to(cov.dtype), cov, inverse)
        y = torch.einsum("jftce,eft->jcft", gain, mixture)
    return y
