"""Onset detection for the timing evaluation: positive spectral flux on a log-magnitude
spectrogram with 5 ms hops, peaks above a moving threshold, at least 60 ms apart."""

from __future__ import annotations

import numpy as np
from scipy.signal import stft

from plugins.vocal_tts.audio import SAMPLE_RATE

ONSET_HOP = 80  # 5 ms
MIN_GAP_SECONDS = 0.06


def detect_onsets(audio: np.ndarray, sensitivity: float = 1.0) -> np.ndarray:
    """Onset times in seconds."""
    _, _, spec = stft(
        audio, SAMPLE_RATE, nperseg=256, noverlap=256 - ONSET_HOP, boundary=None, padded=False
    )
    log_mag = np.log1p(100.0 * np.abs(spec))
    flux = np.maximum(0.0, np.diff(log_mag, axis=1)).sum(axis=0)
    flux = np.concatenate([[0.0], flux])
    if not flux.any():
        return np.zeros(0)
    window = int(0.15 * SAMPLE_RATE / ONSET_HOP)
    padded = np.pad(flux, window, mode="edge")
    local = np.convolve(padded, np.ones(2 * window + 1) / (2 * window + 1), mode="same")
    threshold = local[window:-window] * (1.0 + 0.5 * sensitivity) + 0.05 * flux.max()
    gap = int(MIN_GAP_SECONDS * SAMPLE_RATE / ONSET_HOP)
    peaks: list[int] = []
    for i in range(1, len(flux) - 1):
        if flux[i] > threshold[i] and flux[i] >= flux[i - 1] and flux[i] >= flux[i + 1]:
            if peaks and i - peaks[-1] < gap:
                if flux[i] > flux[peaks[-1]]:
                    peaks[-1] = i
                continue
            peaks.append(i)
    # Frame i's window is centred 128 samples after its start.
    return (np.asarray(peaks) * ONSET_HOP + 128) / SAMPLE_RATE


def onset_errors(
    requested: np.ndarray, detected: np.ndarray, tolerance: float = 0.15
) -> tuple[np.ndarray, int]:
    """Absolute error (s) from each requested onset to the nearest detected one within
    `tolerance`; also how many requested onsets had none."""
    errors, missed = [], 0
    for time in requested:
        if detected.size == 0:
            missed += 1
            continue
        nearest = float(np.min(np.abs(detected - time)))
        if nearest <= tolerance:
            errors.append(nearest)
        else:
            missed += 1
    return np.asarray(errors), missed
