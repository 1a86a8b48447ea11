"""Level normalisation: renders peak at -1 dBFS true peak whatever the vocoder, silence stays
silent, quiet noise is raised at most MAX_GAIN_DB, and `normalize false` keeps the raw level."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from host.requests import Done, OutputEvent
from plugins.melnet.audio import SAMPLE_RATE
from plugins.melnet.loudness import (
    MAX_GAIN_DB,
    SILENCE_FLOOR_DBFS,
    TARGET_LOUDNESS_LUFS,
    TARGET_PEAK_DBFS,
    db,
    integrated_loudness,
    normalise,
    true_peak,
)
from plugins.melnet.network import MelNet
from plugins.melnet.plugin import MelNetRenderer
from plugins.melnet.render import render
from tests.fakes import run_requests

ROWS = np.array([[60, 100, 0.0, 0.4], [67, 80, 0.4, 0.9]], np.float32)
NOTES = [60, 100, 0, 1, 67, 80, 1, 1]


class ScaledVocoder:
    """A stand-in vocoder whose output level is chosen: a tone at `amplitude` (0: silence)."""

    def __init__(self, amplitude: float) -> None:
        self.amplitude = amplitude

    def vocode(self, spec: np.ndarray, samples: int) -> np.ndarray:
        t = np.arange(samples) / SAMPLE_RATE
        return (self.amplitude * np.sin(2 * np.pi * 330.0 * t)).astype(np.float32)


def test_true_peak_sees_the_peak_between_samples() -> None:
    # A sine at a quarter of the rate, sampled 45 degrees off its crests: every sample is at
    # 0.707 of the waveform's real peak, which lies between samples.
    t = np.arange(4000)
    audio = 0.5 * np.sin(np.pi / 2 * t + np.pi / 4)
    assert np.max(np.abs(audio)) == pytest.approx(0.5 * np.sqrt(0.5), rel=1e-6)
    assert true_peak(audio) == pytest.approx(0.5, rel=0.02)  # edges ring a little


@pytest.mark.parametrize("level_db", [-21.0, -4.0, -1.0, 3.0])
def test_normalise_puts_the_true_peak_at_the_target(level_db: float) -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    audio = 10 ** (level_db / 20) * np.sin(2 * np.pi * 440.0 * t) * np.exp(-t)
    assert db(true_peak(normalise(audio))) == pytest.approx(TARGET_PEAK_DBFS, abs=0.02)


def test_silence_stays_silent_and_noise_is_not_raised_into_a_hiss() -> None:
    assert not normalise(np.zeros(8000)).any()
    under_floor = np.full(8000, 10 ** ((SILENCE_FLOOR_DBFS - 10) / 20))
    np.testing.assert_allclose(normalise(under_floor), under_floor, rtol=1e-6)
    noise = 10 ** (-55 / 20) * np.random.default_rng(0).uniform(-1, 1, 8000)
    gain = db(true_peak(normalise(noise))) - db(true_peak(noise))
    assert gain == pytest.approx(MAX_GAIN_DB, abs=0.01)  # -55 dBFS noise ends at -25, not -1


@pytest.mark.parametrize("amplitude", [0.06, 0.3, 1.7])  # -24, -10, +5 dBFS
def test_every_vocoder_path_lands_at_the_target(tiny_model: MelNet, amplitude: float) -> None:
    _, audio = render(tiny_model, ROWS, 16_000, 3, 0.6, seed=0, vocoder=ScaledVocoder(amplitude))
    assert db(true_peak(audio)) == pytest.approx(TARGET_PEAK_DBFS, abs=0.02)
    _, griffin_lim = render(tiny_model, ROWS, 16_000, 3, 0.6, seed=0)  # the untrained model
    assert db(true_peak(griffin_lim)) == pytest.approx(TARGET_PEAK_DBFS, abs=0.02)


def test_a_silent_render_stays_silent(tiny_model: MelNet) -> None:
    _, audio = render(tiny_model, ROWS, 16_000, 3, 0.6, seed=0, vocoder=ScaledVocoder(0.0))
    assert not audio.any()


def test_without_normalize_the_raw_level_is_kept_but_never_clipped(tiny_model: MelNet) -> None:
    vocoder = ScaledVocoder(0.05)
    _, raw = render(tiny_model, ROWS, 16_000, 3, 0.6, seed=0, vocoder=vocoder, normalize=False)
    assert np.max(np.abs(raw)) == pytest.approx(0.05, rel=1e-3)
    vocoder.amplitude = 1.7
    _, hot = render(tiny_model, ROWS, 16_000, 3, 0.6, seed=0, vocoder=vocoder, normalize=False)
    assert np.max(np.abs(hot)) <= 0.99 + 1e-6


def test_a_loudness_target_is_met_under_the_peak_ceiling() -> None:
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    tone = 0.01 * np.sin(2 * np.pi * 440.0 * t)  # about -43 LUFS, peak -40 dBFS
    loud = normalise(tone, loudness_lufs=TARGET_LOUDNESS_LUFS)
    assert integrated_loudness(loud) == pytest.approx(TARGET_LOUDNESS_LUFS, abs=0.1)
    assert db(true_peak(loud)) < TARGET_PEAK_DBFS
    # sparse clicks: -16 LUFS would need peaks far over 0 dBFS; the -1 dBTP ceiling wins
    clicks = np.zeros_like(t)
    clicks[:: SAMPLE_RATE // 2] = 0.05
    capped = normalise(clicks, loudness_lufs=TARGET_LOUDNESS_LUFS)
    assert db(true_peak(capped)) == pytest.approx(TARGET_PEAK_DBFS, abs=0.02)
    assert integrated_loudness(capped) < TARGET_LOUDNESS_LUFS - 3
    assert not normalise(np.zeros(8000), loudness_lufs=TARGET_LOUDNESS_LUFS).any()


def _rendered_level(tmp_path: Path, checkpoint: Path, options: dict[str, object]) -> float:
    model = MelNetRenderer()
    model.checkpoint = checkpoint
    events = run_requests(
        tmp_path / "work",
        model,
        "render",
        {"inputs": {"notes": NOTES}, "options": {"bars": 1, **options}, "seed": 4},
        tempo=120.0,
    )[0]
    assert isinstance(events[-1], Done), events[-1]
    (output,) = [e for e in events if isinstance(e, OutputEvent)]
    audio, _ = soundfile.read(str(output.output.path), dtype="float64")
    if options.get("normalize_to") == "loudness":  # how far under each target it ended
        return min(
            TARGET_LOUDNESS_LUFS - integrated_loudness(audio),
            TARGET_PEAK_DBFS - db(true_peak(audio)),
        )
    return db(true_peak(audio))


def test_the_plugin_normalizes_by_default_and_on_request_not(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    options = {"vocoder": "griffin-lim"}
    normalised = _rendered_level(tmp_path / "a", tiny_checkpoint, options)
    # the WAV holds 16-bit samples: the peak lands within a quantisation step of the target
    assert normalised == pytest.approx(TARGET_PEAK_DBFS, abs=0.05)
    raw = _rendered_level(tmp_path / "b", tiny_checkpoint, {**options, "normalize": False})
    assert abs(raw - TARGET_PEAK_DBFS) > 0.5  # the untrained model renders hot: cut to 0.99


def test_the_plugin_normalizes_to_a_loudness_on_request(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    # one of the two targets is met exactly (-16 LUFS, or the -1 dBTP ceiling stopped it),
    # and neither is exceeded
    options = {"vocoder": "griffin-lim", "normalize_to": "loudness"}
    headroom = _rendered_level(tmp_path, tiny_checkpoint, options)
    assert headroom == pytest.approx(0.0, abs=0.1)
