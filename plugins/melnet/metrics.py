"""Audio comparison figures for the evaluation: log-spectral distance and onset agreement."""

from __future__ import annotations

import numpy as np

from plugins.melnet.audio import HOP, LOG_MEAN, LOG_SCALE, SAMPLE_RATE, log_mel

ONSET_TOLERANCE_S = 0.05


def log_spectral_distance(reference: np.ndarray, rendered: np.ndarray) -> float:
    """Mean over frames of the RMS difference (dB) between two log-mel power spectrograms,
    both floored at -80 dB re. the mel floor so silence compares equal."""
    ref_db = log_mel(reference) * LOG_SCALE + LOG_MEAN
    out_db = log_mel(rendered) * LOG_SCALE + LOG_MEAN
    frames = min(len(ref_db), len(out_db))
    diff = 20.0 / np.log(10.0) * (ref_db[:frames] - out_db[:frames])  # ln magnitude -> dB
    return float(np.mean(np.sqrt(np.mean(diff**2, axis=1))))


def onset_times(audio: np.ndarray) -> np.ndarray:
    """Onsets (seconds) by peak-picking the positive spectral flux of the log-mel spectrogram
    against a moving-median threshold."""
    spec = log_mel(audio)
    flux = np.maximum(np.diff(spec, axis=0), 0.0).sum(axis=1)
    flux = np.concatenate([[0.0], flux])
    if flux.max() <= 0:
        return np.zeros(0)
    flux /= flux.max()
    half = 8
    padded = np.pad(flux, half, mode="edge")
    median = np.array([np.median(padded[i : i + 2 * half + 1]) for i in range(flux.size)])
    threshold = median + 0.1
    peaks = []
    last = -10
    for i in range(1, flux.size - 1):
        is_peak = flux[i] >= flux[i - 1] and flux[i] >= flux[i + 1] and flux[i] > threshold[i]
        if is_peak and i - last >= 3:  # at most one onset per 48 ms
            peaks.append(i)
            last = i
    return np.asarray(peaks) * HOP / SAMPLE_RATE


def onset_f1(
    reference: np.ndarray, estimate: np.ndarray, tolerance: float = ONSET_TOLERANCE_S
) -> float:
    """F-measure of estimated onsets against reference onsets, one-to-one within tolerance."""
    if reference.size == 0 and estimate.size == 0:
        return 1.0
    if reference.size == 0 or estimate.size == 0:
        return 0.0
    used = np.zeros(reference.size, bool)
    hits = 0
    for time in estimate:
        distance = np.where(used, np.inf, np.abs(reference - time))
        best = int(np.argmin(distance))
        if distance[best] <= tolerance:
            used[best] = True
            hits += 1
    precision, recall = hits / estimate.size, hits / reference.size
    return 0.0 if hits == 0 else 2 * precision * recall / (precision + recall)
