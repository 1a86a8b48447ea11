"""Audio <-> normalised log-mel spectrogram, and the Griffin-Lim vocoder.

One set of constants (rate, FFT, hop, mel bins, normalisation) is shared by the data builder,
training, the plugin and the evaluation, so a spectrogram means the same thing everywhere.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

SAMPLE_RATE = 16_000
N_FFT = 1024
HOP = 256  # 16 ms at 16 kHz: 62.5 frames per second
N_MELS = 64
F_MIN = 40.0
F_MAX = 8_000.0
MEL_FLOOR = 1e-4  # magnitudes below this (-80 dB) are treated as silence
# Fixed affine map from ln(mel magnitude) to model units, chosen so silence sits near -1.7 and
# loud notes near +1.5; fixed (not fitted) so the checkpoint does not depend on data statistics.
LOG_MEAN = -5.0
LOG_SCALE = 2.5


def frames_for(samples: int) -> int:
    """Number of STFT frames (centred) covering `samples` samples."""
    return samples // HOP + 1


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


@functools.cache
def mel_filterbank() -> np.ndarray:
    """Triangular HTK-scale filters, shape (N_MELS, N_FFT // 2 + 1), each with unit peak."""
    fft_hz = np.linspace(0.0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(F_MIN), hz_to_mel(F_MAX), N_MELS + 2))
    bank = np.zeros((N_MELS, fft_hz.size), dtype=np.float32)
    for m in range(N_MELS):
        low, centre, high = edges[m], edges[m + 1], edges[m + 2]
        rising = (fft_hz - low) / (centre - low)
        falling = (high - fft_hz) / (high - centre)
        bank[m] = np.maximum(0.0, np.minimum(rising, falling))
    return bank


def mel_centres_hz() -> np.ndarray:
    """Centre frequency of each mel bin, in Hz."""
    return mel_to_hz(np.linspace(hz_to_mel(F_MIN), hz_to_mel(F_MAX), N_MELS + 2))[1:-1]


def _window() -> torch.Tensor:
    return torch.hann_window(N_FFT)


def low_pass(audio: np.ndarray, cutoff_hz: float, roll_off_hz: float = 200.0) -> np.ndarray:
    """`audio` without what lies above `cutoff_hz`: a half-cosine roll-off over `roll_off_hz`
    rather than a brick wall, against long ringing."""
    spectrum = np.fft.rfft(audio)
    hz = np.fft.rfftfreq(audio.size, 1 / SAMPLE_RATE)
    spectrum *= 0.5 + 0.5 * np.cos(np.pi * np.clip((hz - cutoff_hz) / roll_off_hz, 0.0, 1.0))
    return np.fft.irfft(spectrum, audio.size)


def magnitude(audio: np.ndarray) -> np.ndarray:
    """|STFT| of mono audio, shape (frames, N_FFT // 2 + 1)."""
    spec = torch.stft(
        torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)),
        N_FFT,
        HOP,
        window=_window(),
        center=True,
        return_complex=True,
    )
    return spec.abs().T.numpy()


def log_mel(audio: np.ndarray) -> np.ndarray:
    """Normalised log-mel spectrogram of mono audio, shape (frames, N_MELS), float32."""
    mel = magnitude(audio) @ mel_filterbank().T
    return ((np.log(np.maximum(mel, MEL_FLOOR)) - LOG_MEAN) / LOG_SCALE).astype(np.float32)


def silence_level() -> float:
    """The model-unit value of a silent bin."""
    return (math.log(MEL_FLOOR) - LOG_MEAN) / LOG_SCALE


def mel_to_linear(spec: np.ndarray, iterations: int = 30) -> np.ndarray:
    """Approximate linear magnitudes (frames, bins) from a normalised log-mel spectrogram.

    The mel matrix is wide and not invertible; projected multiplicative updates give a
    non-negative least-squares estimate, which avoids the negative ringing of a pseudo-inverse.
    (torch rather than numpy: it honours the one-thread setting of a shared CPU.)
    """
    bank = torch.from_numpy(mel_filterbank())
    spec_t = torch.from_numpy(np.ascontiguousarray(spec, dtype=np.float32))
    target = torch.exp(spec_t * LOG_SCALE + LOG_MEAN)
    target[spec_t <= silence_level() + 1e-3] = 0.0
    wanted = target @ bank + 1e-10  # fixed numerator of every update
    linear = torch.clamp(target @ bank, min=1e-8) / torch.clamp(bank.sum(0), min=1e-3)
    for _ in range(iterations):
        linear *= wanted / ((linear @ bank.T) @ bank + 1e-10)
    return linear.numpy()


def griffin_lim(
    linear: np.ndarray, samples: int, iterations: int = 32, seed: int = 0
) -> np.ndarray:
    """Waveform from magnitudes (frames, bins) with fast Griffin-Lim (momentum 0.99).

    Returns exactly `samples` samples of mono float32 audio (cut, or padded with silence if the
    spectrogram is shorter).
    """
    inner = (linear.shape[0] - 1) * HOP  # the length whose STFT has exactly these frames
    magnitudes = torch.from_numpy(np.ascontiguousarray(linear.T, dtype=np.float32))
    generator = torch.Generator().manual_seed(seed)
    phase = torch.rand(magnitudes.shape, generator=generator) * 2 * math.pi
    window = _window()
    previous = torch.zeros_like(magnitudes, dtype=torch.complex64)
    spectrum = torch.polar(magnitudes, phase)
    for _ in range(iterations):
        audio = torch.istft(spectrum, N_FFT, HOP, window=window, center=True, length=inner)
        rebuilt = torch.stft(audio, N_FFT, HOP, window=window, center=True, return_complex=True)
        accelerated = rebuilt + 0.99 * (rebuilt - previous)
        previous = rebuilt
        spectrum = accelerated * (magnitudes / (accelerated.abs() + 1e-8))
    final = torch.istft(spectrum, N_FFT, HOP, window=window, center=True, length=inner).numpy()
    return np.pad(final[:samples], (0, max(0, samples - inner))).astype(np.float32)
