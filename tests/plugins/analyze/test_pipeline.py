"""The whole training path on a tiny scale: build a few songs, train a tiny network for a few
steps, evaluate it against librosa in the same run, and time it on a short track. Checks the
plumbing and the report's shape (quality is what `dawhost eval analyze` measures)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from plugins.analyze import build_data, evaluate, train


def test_build_train_evaluate_bench(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    build_data.main(["--out", str(data), "--train", "3", "--test", "3", "--other", "2"])
    (wav, *_) = sorted((data / "test").glob("*.wav"))
    audio, rate = soundfile.read(wav, always_2d=True)
    assert rate == 44_100 and audio.shape[1] == 2 and len(audio) == 30 * rate
    labels = json.loads(wav.with_suffix(".json").read_text())
    assert labels["soundfont"] == "TimGM6mb.sf2" and labels["meter"] == "3/4"
    assert np.allclose(np.diff(labels["beats"]), 60 / labels["tempo"], atol=1e-3)
    with np.load(sorted((data / "train").glob("*.npz"))[0]) as song:
        assert str(song["soundfont"]) in build_data.TRAIN_SOUNDFONTS
        assert len(song["audio"]) == 20 * 16_000

    checkpoint = tmp_path / "tiny.pt"
    train.main(
        ["--data", str(data), "--out", str(checkpoint), "--max-steps", "3", "--batch", "2"]
        + ["--channels", "4", "--layers", "2", "--save-every", "100"]
    )
    assert checkpoint.is_file()
    capsys.readouterr()
    train.main(["--data", str(data), "--out", str(checkpoint), "--retune"])
    retuned = json.loads(capsys.readouterr().out)
    assert set(retuned["decode"]) >= {"meter_weight", "tempo_prior_power", "split_compound"}
    assert 0.0 <= retuned["validation"]["score"] <= 1.0

    report_path = tmp_path / "eval.json"
    evaluate.main(
        ["--data", str(data), "--checkpoint", str(checkpoint), "--report", str(report_path)]
    )
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads(report_path.read_text())
    assert report["songs"] == 3 and report["audio_seconds"] == 90.0
    for side in ("model", "baseline_librosa_beat_track"):
        assert set(report[side]) >= {"accuracy1", "accuracy2", "beat_f1", "downbeat_f1"}
        assert all(0.0 <= v <= 1.0 for v in report[side].values())
    assert set(report["by_group"]) == {"drums", "meter 3/4", "meter 4/4", "meter 6/8"}  # 3 songs
    # librosa finds a steady rendered beat: a baseline that scored nothing would be broken
    assert report["baseline_librosa_beat_track"]["beat_f1"] > 0.3
    # The sets unlike training are scored on their own, with their own baseline.
    others = report["unlike_training"]
    assert set(others) == {"test_fm", "test_corpus"}
    assert others["test_fm"]["soundfont"] == "OPL-3_FM_128M.sf2"
    assert others["test_corpus"]["soundfont"] == "TimGM6mb.sf2"
    assert {"style chorale", "style fiddle tune"} <= set(others["test_corpus"]["by_group"])
    for other in others.values():
        assert other["songs"] == 2 and "goals" not in other
        assert set(other["baseline_librosa_beat_track"]) >= {"beat_f1", "accuracy1"}

    from benchmarks import bench_analyze

    bench_analyze.main(["--checkpoint", str(checkpoint), "--data", str(data), "--seconds", "20"])
    bench = json.loads(capsys.readouterr().out)
    assert bench["track_seconds"] == 20.0 and bench["test_renders_in_track"] == 1
    assert bench["model"]["rtf"] > 0 and bench["baseline_librosa_beat_track"]["rtf"] > 0
