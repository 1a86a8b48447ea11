"""The neural vocoder: exact lengths and finite audio, a loss that training lowers, and the
plugin's `vocoder` option (neural by default, Griffin-Lim on request, a named error when the
vocoder's checkpoint is missing). Tiny configs: quality is measured by the evaluation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import torch

from host.errors import ErrorCode
from host.requests import Done, Error, OutputEvent
from plugins.melnet.audio import HOP, N_MELS, SAMPLE_RATE, log_mel
from plugins.melnet.plugin import MelNetRenderer
from plugins.melnet.vocoder import (
    MelVocoder,
    VocoderConfig,
    load_vocoder,
    multi_resolution_stft_loss,
    save_vocoder,
)
from tests.fakes import run_requests

TINY = VocoderConfig(width=16, blocks=1, kernel=3)
NOTES = [60, 100, 0, 1, 64, 90, 1, 1]


def test_vocode_returns_exactly_the_samples_asked_for() -> None:
    torch.manual_seed(0)
    vocoder = MelVocoder(TINY).eval()
    spec = np.random.default_rng(0).standard_normal((40, N_MELS)).astype(np.float32)
    for samples in (39 * HOP, 39 * HOP - 5, 45 * HOP):  # exact, shorter, longer (padded)
        audio = vocoder.vocode(spec, samples)
        assert audio.shape == (samples,) and audio.dtype == np.float32
        assert np.isfinite(audio).all()


def test_training_steps_lower_the_stft_loss() -> None:
    torch.manual_seed(0)
    t = np.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
    tone = (0.3 * np.sin(2 * np.pi * 330 * t) * np.exp(-3 * t)).astype(np.float32)
    mel = torch.from_numpy(log_mel(tone))[None]
    target = torch.from_numpy(tone[: (mel.shape[1] - 1) * HOP])[None]
    vocoder = MelVocoder(TINY)
    optimiser = torch.optim.AdamW(vocoder.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = multi_resolution_stft_loss(vocoder(mel), target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0], losses


def _render(
    tmp_path: Path, checkpoint: Path, vocoder_path: Path, **options: object
) -> list[object]:
    model = MelNetRenderer()
    model.checkpoint = checkpoint
    model.vocoder_checkpoint = vocoder_path
    fields = {"inputs": {"notes": NOTES}, "options": {"bars": 1, **options}, "seed": 1}
    return run_requests(tmp_path / "work", model, "render", fields, tempo=240.0)[0]


def _audio(events: list[object]) -> np.ndarray:
    assert isinstance(events[-1], Done), events[-1]
    (output,) = [e for e in events if isinstance(e, OutputEvent)]
    return soundfile.read(str(output.output.path), dtype="float32")[0]


def test_the_vocoder_option_chooses_and_a_missing_vocoder_is_named(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    path = tmp_path / "vocoder.pt"
    save_vocoder(path, MelVocoder(TINY), {"step": 0})
    assert load_vocoder(path).config == TINY
    neural = _audio(_render(tmp_path, tiny_checkpoint, path))
    same_seed = _audio(_render(tmp_path, tiny_checkpoint, path, vocoder="neural"))
    griffin_lim = _audio(_render(tmp_path, tiny_checkpoint, path, vocoder="griffin-lim"))
    # same seed, same spectrogram: neural is the default, and the option changes the audio
    assert neural.shape == griffin_lim.shape == (SAMPLE_RATE,)  # 1 bar of 4/4 at 240 BPM
    np.testing.assert_array_equal(neural, same_seed)
    assert not np.allclose(neural, griffin_lim, atol=1e-3)
    missing = tmp_path / "no-vocoder.pt"
    error = _render(tmp_path, tiny_checkpoint, missing)[-1]
    assert isinstance(error, Error) and error.code is ErrorCode.MODEL_ERROR
    assert "griffin-lim" in error.message
    np.testing.assert_array_equal(
        _audio(_render(tmp_path, tiny_checkpoint, missing, vocoder="griffin-lim")), griffin_lim
    )
