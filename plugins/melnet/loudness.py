"""Level normalisation of renders: every melnet render peaks at the same true-peak level.

A DAW user drops a render onto a track and expects it at a usable, predictable level, like a
bounced or normalised clip; the raw renders peaked anywhere from -4 to -21 dBFS. The target is
a true peak (4x oversampled, as ITU-R BS.1770 estimates it) of -1 dBFS: the usual
normalisation ceiling, with headroom for inter-sample peaks and for lossy encoders. Peak rather
than loudness (LUFS) because a render is one part of a mix, not a finished master: a loudness
target would clip short, percussive renders or need a limiter that changes their attacks.
A render whose peak lies under SILENCE_FLOOR_DBFS is left alone (silence stays silence), and
no render is raised by more than MAX_GAIN_DB, so a quiet wash of noise cannot become a loud hiss.

On request (`normalize_to loudness`) the target is an integrated loudness of
TARGET_LOUDNESS_LUFS instead (ITU-R BS.1770-4, measured by pyloudnorm), for renders that should
sit at the same perceived level side by side; the true peak still never goes over
TARGET_PEAK_DBFS (the gain is the smaller of the two), so nothing clips and no limiter is needed.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import resample_poly

TARGET_PEAK_DBFS = -1.0
TARGET_LOUDNESS_LUFS = -16.0  # a common reference for music heard on its own (-14..-16 LUFS)
SILENCE_FLOOR_DBFS = -60.0  # under this, a render is silence (or noise) and is not raised
MAX_GAIN_DB = 30.0  # the quietest raw renders measured needed ~+20 dB
OVERSAMPLING = 4


def db(amplitude: float) -> float:
    return 20.0 * float(np.log10(max(amplitude, 1e-12)))


def true_peak(audio: np.ndarray) -> float:
    """Peak amplitude of the waveform between samples too (4x polyphase oversampling)."""
    if audio.size == 0:
        return 0.0
    sample_peak = float(np.max(np.abs(audio)))
    if audio.size < 8:
        return sample_peak
    upsampled = resample_poly(np.asarray(audio, dtype=np.float64), OVERSAMPLING, 1)
    return max(sample_peak, float(np.max(np.abs(upsampled))))


def integrated_loudness(audio: np.ndarray, rate: int = 16_000) -> float:
    """Integrated loudness (LUFS, ITU-R BS.1770-4 with its gating); -inf for silence or audio
    shorter than one 400 ms gating block."""
    import pyloudnorm

    if audio.size < int(0.4 * rate):
        return float("-inf")
    return float(pyloudnorm.Meter(rate).integrated_loudness(np.asarray(audio, np.float64)))


def normalisation_gain_db(
    audio: np.ndarray,
    target_dbfs: float = TARGET_PEAK_DBFS,
    floor_dbfs: float = SILENCE_FLOOR_DBFS,
    max_gain_db: float = MAX_GAIN_DB,
    loudness_lufs: float | None = None,
) -> float:
    """The gain (dB) that brings `audio`'s true peak to `target_dbfs`: 0 for silence (peak
    under `floor_dbfs`), at most `max_gain_db`, and a cut if the peak is above the target.
    With `loudness_lufs`, the gain to that integrated loudness if it is smaller (the peak
    ceiling still holds)."""
    peak_db = db(true_peak(audio))
    if peak_db < floor_dbfs:
        return 0.0
    gain = min(target_dbfs - peak_db, max_gain_db)
    if loudness_lufs is not None:
        measured = integrated_loudness(audio)
        if np.isfinite(measured):
            gain = min(gain, loudness_lufs - measured)
    return gain


def normalise(
    audio: np.ndarray, target_dbfs: float = TARGET_PEAK_DBFS, loudness_lufs: float | None = None
) -> np.ndarray:
    """`audio` scaled so its true peak is `target_dbfs`, or its loudness `loudness_lufs`
    under that ceiling (see the module docstring for the floor and the gain limit); float32,
    a new array."""
    gain = 10.0 ** (normalisation_gain_db(audio, target_dbfs, loudness_lufs=loudness_lufs) / 20.0)
    return (np.asarray(audio, dtype=np.float64) * gain).astype(np.float32)


def limit_peak(audio: np.ndarray, ceiling: float = 0.99) -> np.ndarray:
    """Without normalisation, still never hand a DAW a clipped file: scale down above
    `ceiling` (sample peak)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio * (ceiling / peak) if peak > ceiling else audio
