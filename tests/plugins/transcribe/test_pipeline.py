"""Data builder -> trainer -> evaluation on a few clips: the files each step writes are the
ones the next reads, labels match what was rendered, the report has its figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from plugins.transcribe import build_data, evaluate, train
from plugins.transcribe.checkpoint import load


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("transcribe-data")
    # no corpus parsing: generated melodies and accompaniments only
    build_data.main(["--out", str(out), "--train", "4", "--test", "2", "--parse-seconds", "0"])
    return out


def test_build_writes_rendered_clips_with_their_notes(tiny_data: Path) -> None:
    trains = sorted((tiny_data / "train").glob("*.npz"))
    assert len(trains) == 4
    with np.load(trains[0]) as clip:
        audio, notes = clip["audio"], clip["notes"]
        assert str(clip["soundfont"]) in build_data.TRAIN_SOUNDFONTS
    assert audio.dtype == np.int16 and notes.shape[1] == 4 and len(notes)
    # the audio lasts the notes plus the release tail, and sounds while they play
    assert len(audio) / 16_000 == pytest.approx(notes[:, 3].max() + 1.0, abs=0.1)
    first = int(notes[0, 2] * 16_000)
    assert np.abs(audio[first : first + 4000]).max() > 300
    tests = sorted((tiny_data / "test").glob("*.json"))
    assert len(tests) == 2
    labels = json.loads(tests[0].read_text())
    assert labels["soundfont"] == build_data.HELD_OUT_SOUNDFONT
    assert soundfile.info(str(tests[0].with_suffix(".wav"))).samplerate == 44_100


def test_train_then_evaluate(
    tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = tmp_path / "t.pt"
    argv = ["--data", str(tiny_data), "--out", str(checkpoint), "--tiny", "--steps", "2"]
    assert train.main([*argv, "--batch", "2", "--crop-seconds", "1"]) == 0
    net, payload = load(checkpoint)
    assert payload["step"] == 2 and 0 < payload["onset_threshold"] < 1
    capsys.readouterr()
    report_path = tmp_path / "eval.json"
    argv = ["--data", str(tiny_data), "--checkpoint", str(checkpoint), "--report", str(report_path)]
    assert evaluate.main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads(report_path.read_text())
    assert report["test_clips"] == 2
    for method in ("model", "pyin"):
        groups = report["results"][method]
        for figures in groups.values():
            assert 0.0 <= figures["onset_f1"] <= 1.0
            assert 0.0 <= figures["onset_offset_f1"] <= figures["onset_f1"] + 1e-9
    assert report["rtf"]["model"] > 0 and report["rtf"]["baseline"] > 0
