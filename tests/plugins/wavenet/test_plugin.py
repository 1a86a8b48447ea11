"""The wavenet-texture model through the dawhost core, and the `vocoder = wavenet` drop-ins."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from host.requests import Done, Error, OutputEvent
from plugins.wavenet.network import WaveNet
from plugins.wavenet.plugin import WaveNetTexture, samples_for
from plugins.wavenet.vocoder import WaveNetVocoder
from tests.fakes import run_requests


def _texture(
    tmp_path: Path,
    checkpoint: Path,
    transport_tempo: float,
    signature: tuple[int, int],
    **options: object,
) -> list[object]:
    model = WaveNetTexture()
    model.checkpoint = checkpoint
    return run_requests(
        tmp_path / "work",
        model,
        "render",
        {"options": options, "seed": 4},
        tempo=transport_tempo,
        signature=signature,
    )[0]


def _frames(events: list[object]) -> int:
    assert isinstance(events[-1], Done), events[-1]
    (output,) = [e for e in events if isinstance(e, OutputEvent)]
    info = soundfile.info(str(output.output.path))
    assert info.samplerate == 16_000
    return info.frames


def test_texture_is_exactly_n_bars_at_the_transport_tempo(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    events = _texture(tmp_path, tiny_checkpoint, 280.0, (3, 4), bars=2, folds=8)
    assert _frames(events) == round(2 * 3 * 60 / 280 * 16_000) == samples_for(2, 3, 280.0)


def test_request_tempo_overrides_the_transport(tmp_path: Path, tiny_checkpoint: Path) -> None:
    events = _texture(tmp_path, tiny_checkpoint, 90.0, (4, 4), bars=1, tempo=240.0)
    assert _frames(events) == 16_000  # 4 beats at 240 BPM


def test_too_long_a_texture_is_refused_by_name(tmp_path: Path, tiny_checkpoint: Path) -> None:
    events = _texture(tmp_path, tiny_checkpoint, 20.0, (4, 4), bars=16)
    assert isinstance(events[-1], Error) and events[-1].field == "bars"


@pytest.mark.parametrize(("front_end", "bins"), [("music", 64), ("vocal", 80)])
def test_the_vocoder_turns_a_spectrogram_into_exactly_the_samples_asked(
    tiny_model: WaveNet, front_end: str, bins: int
) -> None:
    vocoder = WaveNetVocoder(tiny_model, front_end, folds=4, overlap=200, seed=3)
    spec = np.random.default_rng(0).normal(size=(40, bins)).astype(np.float32)
    first = vocoder.vocode(spec, 3_333)
    assert first.shape == (3_333,) and first.dtype == np.float32
    assert np.array_equal(first, vocoder.vocode(spec, 3_333))  # the seed decides the draws
    assert torch.get_num_threads() == 1  # restored (the fixture's setting)
