"""Spectrogram front end and Griffin-Lim: bins land where the physics says, lengths are exact."""

from __future__ import annotations

import numpy as np

from plugins.melnet.audio import (
    SAMPLE_RATE,
    frames_for,
    griffin_lim,
    log_mel,
    mel_centres_hz,
    mel_to_linear,
    silence_level,
)
from plugins.melnet.conditioning import harmonic_template, note_features


def _sine(hz: float, seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_log_mel_peaks_at_the_tone_and_floors_silence() -> None:
    spec = log_mel(_sine(1000.0))
    assert spec.shape == (frames_for(SAMPLE_RATE // 2), 64)
    peak_bin = int(np.argmax(spec[10]))
    assert abs(mel_centres_hz()[peak_bin] - 1000.0) < 80.0
    silent = log_mel(np.zeros(4000, np.float32))
    assert np.allclose(silent, silence_level())


def test_griffin_lim_returns_exact_length_and_keeps_the_pitch() -> None:
    spec = log_mel(_sine(440.0))
    samples = 7919  # a prime, so no frame arithmetic hides an off-by-one
    audio = griffin_lim(mel_to_linear(spec), samples, iterations=16)
    assert audio.shape == (samples,)
    spectrum = np.abs(np.fft.rfft(audio))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / samples
    assert abs(peak_hz - 440.0) < 40.0


def test_note_features_mark_onset_held_and_release() -> None:
    notes = np.array([[69, 127, 0.16, 0.48]], np.float32)  # onset at frame 10, off at 30
    bins, frames = note_features(notes, 50)
    a4_bin = int(np.argmax(harmonic_template(69)))
    assert abs(mel_centres_hz()[a4_bin] - 440.0) < 40.0
    held, onset, _, release = (bins[:, a4_bin, c] for c in range(4))
    assert held[5] == 0 and held[20] > 0.9 and held[40] == 0
    assert int(np.argmax(onset)) == 10
    assert release[31] > release[40] > 0 and release[20] == 0
    assert frames[20, 0] > 0 and frames[5, 0] == 0
