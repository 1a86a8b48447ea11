"""The separation model inside dawhost: request -> four stem files at the input's rate and
length; options; bad input as a BAD_INPUT error after which the server keeps serving."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

import host
from host import ErrorCode
from host.requests import Done, Error, OutputEvent
from plugins.separation.plugin import StemSeparator, bars_length
from plugins.separation.stems import STEMS
from tests.fakes import run_requests


def _model(checkpoint: Path) -> StemSeparator:
    model = StemSeparator()
    model.checkpoint = checkpoint
    return model


def _separate(tmp_path: Path, checkpoint: Path, *requests: dict) -> list[list]:  # type: ignore[type-arg]
    # 2/4 at 120 BPM: one bar = 1 s
    return run_requests(tmp_path, _model(checkpoint), "separate", *requests, signature=(2, 4))


def test_separate_writes_four_stems_like_the_input(
    tmp_path: Path, tiny_checkpoint: Path, song_file: Path
) -> None:
    (events,) = _separate(tmp_path, tiny_checkpoint, {"inputs": {"audio": str(song_file)}})
    assert isinstance(events[-1], Done), events[-1]
    (output,) = [e.output for e in events if isinstance(e, OutputEvent)]
    assert isinstance(output, host.StemsOutput)
    assert sorted(output.stems) == sorted(STEMS)
    source = soundfile.info(str(song_file))
    mixture = soundfile.read(song_file, always_2d=True)[0]
    total = np.zeros_like(mixture)
    for stem in STEMS:
        path = output.stems[stem].path
        assert path is not None and path.is_relative_to(tmp_path.resolve())
        info = soundfile.info(str(path))
        assert (info.samplerate, info.frames, info.channels) == (
            source.samplerate,
            source.frames,
            source.channels,
        )
        total += soundfile.read(path, always_2d=True)[0]
    np.testing.assert_allclose(total, mixture, atol=1e-4)


def test_bad_input_is_an_error_and_the_next_request_works(
    tmp_path: Path, tiny_checkpoint: Path, song_file: Path
) -> None:
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("hello")
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros((44_100, 2), np.float32), 44_100)
    bad, quiet, good = _separate(
        tmp_path,
        tiny_checkpoint,
        {"inputs": {"audio": str(not_audio)}},
        {"inputs": {"audio": str(silent)}},
        {"inputs": {"audio": str(song_file)}},
    )
    for events, problem in ((bad, "not a readable audio file"), (quiet, "is silent")):
        assert isinstance(events[-1], Error)
        assert events[-1].code is ErrorCode.BAD_INPUT and problem in events[-1].message
    assert isinstance(good[-1], Done)


def test_trim_to_bars_and_wiener(tmp_path: Path, tiny_checkpoint: Path, song_file: Path) -> None:
    (events,) = _separate(
        tmp_path,
        tiny_checkpoint,
        {"inputs": {"audio": str(song_file)}, "options": {"trim_to_bars": True, "wiener": True}},
    )
    assert isinstance(events[-1], Done), events[-1]
    (output,) = [e.output for e in events if isinstance(e, OutputEvent)]
    frames = {soundfile.info(str(a.path)).frames for a in output.stems.values()}
    assert frames == {44_100}  # the 1.5 s song holds one whole 1 s bar of 2/4 at 120 BPM


def test_bars_length() -> None:
    snap = host.TransportSnapshot(
        tempo=120.0, numerator=4, denominator=4, playing=False, beat=0.0, time=0.0
    )
    assert bars_length(44_100 * 5, 44_100, snap) == 44_100 * 4  # two 2 s bars
    with pytest.raises(host.BadInput, match="shorter than one bar"):
        bars_length(44_100, 44_100, snap)
