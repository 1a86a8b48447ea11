"""Inputs that cannot be separated are refused with a message naming the problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from host import BadInput
from plugins.separation.audio_io import check_audio, read_span


def _write(path: Path, audio: np.ndarray, rate: int = 44_100, **kw: object) -> Path:
    soundfile.write(path, audio, rate, **kw)  # type: ignore[arg-type]
    return path


def _late(value: float) -> np.ndarray:
    """Six seconds of quiet sound with one bad sample near the end (past the first block)."""
    audio = np.full((6 * 44_100, 1), 0.1, np.float32)
    audio[5 * 44_100] = value
    return audio


@pytest.mark.parametrize(
    "make,problem",
    [
        (lambda p: p.write_bytes(b"this is not audio at all" * 50) and p, "not a readable audio"),
        (lambda p: _write(p, np.zeros((0, 2), np.float32)), "empty"),
        (lambda p: _write(p, np.zeros((44_100, 2), np.float32)), "silent"),
        (lambda p: _write(p, np.full((44_100, 1), np.nan, np.float32), subtype="FLOAT"), "NaN"),
        (lambda p: _write(p, np.ones((100, 1), np.float32) * 0.1), "too short"),
        # 1024 samples at 44.1 kHz are too few STFT frames at the network's 11.025 kHz
        (lambda p: _write(p, np.ones((1024, 1), np.float32) * 0.1), "too short"),
        (lambda p: _write(p, _late(np.nan), subtype="FLOAT"), "NaN or infinite samples (after"),
        (lambda p: _write(p, _late(3e38), subtype="FLOAT"), "normalise"),
        (lambda p: _write(p, np.ones((4000, 4), np.float32) * 0.1), "4 channels"),
        (
            lambda p: _write(p, np.ones((4000, 1), np.float32) * 0.1, rate=4000),
            "sample rate of 4000 Hz",
        ),
    ],
)
def test_unusable_audio_is_refused_by_name(tmp_path: Path, make, problem: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path / "input.wav")
    with pytest.raises(BadInput) as caught:
        check_audio(path)
    assert problem in caught.value.message
    assert caught.value.field == "audio"


def test_too_long_names_the_limit(tmp_path: Path) -> None:
    path = _write(tmp_path / "long.flac", np.full((8000 * 3, 1), 0.1, np.float32), rate=8000)
    with pytest.raises(BadInput, match="3 s long; the limit is 2 s"):
        check_audio(path, max_seconds=2.0)


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".aiff"])
def test_common_formats_are_accepted(tmp_path: Path, suffix: str) -> None:
    t = np.arange(22_050) / 22_050
    audio = (0.3 * np.sin(2 * np.pi * 440 * t))[:, None].astype(np.float32)
    info = check_audio(_write(tmp_path / f"ok{suffix}", audio, rate=22_050))
    assert (info.rate, info.channels) == (22_050, 1)
    assert abs(info.frames - 22_050) <= 1 if suffix != ".ogg" else info.frames > 20_000


def test_read_span_pads_outside_the_file(tmp_path: Path) -> None:
    audio = np.arange(10, dtype=np.float32)[:, None] / 10
    path = _write(tmp_path / "ramp.wav", audio, rate=8000, subtype="FLOAT")
    with soundfile.SoundFile(str(path)) as f:
        span = read_span(f, -3, 4)
        tail = read_span(f, 8, 12)
    np.testing.assert_allclose(span[:, 0], [0, 0, 0, 0.0, 0.1, 0.2, 0.3])
    np.testing.assert_allclose(tail[:, 0], [0.8, 0.9, 0, 0])
