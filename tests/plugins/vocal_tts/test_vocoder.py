"""The harmonic-plus-noise vocoder follows f0 exactly; Griffin-Lim keeps the length."""

from __future__ import annotations

import numpy as np
import torch

from plugins.vocal_tts.audio import HOP, N_MELS, SAMPLE_RATE, log_mel
from plugins.vocal_tts.griffin_lim import griffin_lim
from plugins.vocal_tts.pitch import analyse_f0, hz_to_midi
from plugins.vocal_tts.vocoder import filtered_noise, harmonic, multi_resolution_stft_loss


def test_harmonics_sit_at_multiples_of_f0() -> None:
    frames = 100
    f0 = torch.full((1, frames), 220.0)
    amplitudes = torch.zeros(1, frames, 4)
    amplitudes[..., 0], amplitudes[..., 2] = 0.5, 0.25
    audio = harmonic(f0, amplitudes)[0].numpy()
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    freqs = np.fft.rfftfreq(len(audio), 1 / SAMPLE_RATE)

    def level(hz: float) -> float:
        return float(spectrum[np.abs(freqs - hz) < 5].max())

    assert level(220) > 1.8 * level(660) > 100 * max(level(440), level(880), level(330))


def test_a_gliding_f0_is_tracked_within_a_few_cents() -> None:
    frames = 150
    target = torch.linspace(150.0, 300.0, frames).unsqueeze(0)
    amplitudes = torch.zeros(1, frames, 3)
    amplitudes[..., 0] = 0.5
    amplitudes[..., 1] = 0.2
    audio = harmonic(target, amplitudes)[0].numpy()
    measured = analyse_f0(audio, frames)[10:-10]
    error = np.abs(hz_to_midi(measured) - hz_to_midi(target[0, 10:-10].numpy())) * 100
    assert np.median(error) < 5


def test_unvoiced_frames_make_no_harmonics_and_noise_follows_its_bands() -> None:
    bands = torch.zeros(1, 20, 4)
    bands[0, 10:] = 1.0
    noise = filtered_noise(bands, torch.Generator().manual_seed(0))[0]
    assert noise.shape[0] == 20 * HOP
    assert noise[: 8 * HOP].abs().max() < 1e-3 < noise[12 * HOP :].abs().max()


def test_griffin_lim_restores_a_mel_to_audio_of_the_same_length_and_envelope() -> None:
    t = torch.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
    tone = 0.5 * torch.sin(2 * torch.pi * 440 * t)
    mel = log_mel(tone)
    audio = griffin_lim(mel, iterations=8)
    assert audio.shape[0] == mel.shape[0] * HOP
    assert mel.shape[1] == N_MELS
    assert multi_resolution_stft_loss(audio, tone) < multi_resolution_stft_loss(
        torch.zeros_like(tone), tone
    )
