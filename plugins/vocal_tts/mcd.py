"""Mel-cepstral distortion between two renderings of one sentence: a listening-free proxy of
how close a voice sounds to a reference voice (lower is closer).

Mel cepstra are the cosine-series coefficients of the 80-band natural-log mel magnitude
(`audio.log_mel`): log|S| = c0 + 2 * sum c_d cos(d w) on the mel-warped axis, so the scale is
that of a true cepstrum; coefficients 1-24 (c0, the level, is left out). The two utterances
are aligned by dynamic time warping (they need not share timing), silence at either end is
trimmed first, and the distortion is the usual 10/ln(10) * sqrt(2 * sum of squared
differences), in dB, averaged along the warping path. The cepstra come from mels, not from
SPTK's mcep, so the numbers compare with each other, not with published MCDs.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.fft import dct

from plugins.vocal_tts.audio import log_mel

ORDER = 24
SILENCE_DB = 40.0  # frames this far below the loudest frame count as silence at the ends


def mel_cepstrum(audio: np.ndarray) -> np.ndarray:
    """(frames, ORDER) mel cepstra of the sounding part of `audio` (16 kHz float)."""
    mel = log_mel(torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))).numpy()
    energy = mel.max(axis=1) * 20 / np.log(10)  # dB of each frame's strongest band
    loud = np.flatnonzero(energy > energy.max() - SILENCE_DB)
    mel = mel[loud[0] : loud[-1] + 1] if loud.size else mel
    # scipy's unnormalised DCT-II gives 2 * bands * c_d for a cosine series with coefficients c_d
    return dct(mel, type=2, axis=1)[:, 1 : ORDER + 1] / (2 * mel.shape[1])


def dtw_path(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost monotonic alignment through `cost` (n, m), steps (1,0), (0,1), (1,1);
    filled one anti-diagonal at a time so each step is one numpy operation."""
    n, m = cost.shape
    total = np.full((n + 1, m + 1), np.inf)
    total[0, 0] = 0.0
    for diagonal in range(2, n + m + 1):
        i = np.arange(max(1, diagonal - m), min(n, diagonal - 1) + 1)
        j = diagonal - i
        best = np.minimum(np.minimum(total[i - 1, j], total[i, j - 1]), total[i - 1, j - 1])
        total[i, j] = cost[i - 1, j - 1] + best
    rows, cols = [n - 1], [m - 1]
    i, j = n, m
    while i > 1 or j > 1:
        steps = ((i - 1, j - 1), (i - 1, j), (i, j - 1))
        i, j = min(steps, key=lambda s: total[s])
        rows.append(i - 1)
        cols.append(j - 1)
    return np.array(rows[::-1]), np.array(cols[::-1])


def mel_cepstral_distortion(audio: np.ndarray, reference: np.ndarray) -> float:
    """MCD in dB between `audio` and `reference` after DTW alignment."""
    a, b = mel_cepstrum(audio), mel_cepstrum(reference)
    difference = a[:, None, :] - b[None, :, :]
    cost = np.sqrt((difference**2).sum(-1))
    rows, cols = dtw_path(cost)
    frame_mcd = 10.0 / np.log(10.0) * np.sqrt(2.0) * cost[rows, cols]
    return float(frame_mcd.mean())
