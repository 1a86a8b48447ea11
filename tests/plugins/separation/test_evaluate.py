"""The evaluation prints one JSON report with the model, the oracle mask and HPSS scored on
the same tracks; the oracle (which sees the true stems) beats an untrained network."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from plugins.separation.evaluate import main
from plugins.separation.stems import HELD_OUT_SOUNDFONT, STEMS

RATE = 11_025


def _track(folder: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(int(2.5 * RATE)) / RATE
    clicks = np.zeros_like(t)
    clicks[:: RATE // 4] = 0.8
    stems = [
        0.3 * np.sin(2 * np.pi * 880 * t),
        clicks + 0.01 * rng.standard_normal(t.size),
        0.4 * np.sin(2 * np.pi * 55 * t),
        0.3 * np.sin(2 * np.pi * 330 * t),
    ]
    folder.mkdir(parents=True)
    for name, audio in zip(STEMS, stems, strict=True):
        soundfile.write(folder / f"{name}.wav", np.stack([audio, audio], 1), RATE, subtype="FLOAT")
    mix = sum(stems)
    soundfile.write(folder / "mixture.wav", np.stack([mix, mix], 1), RATE, subtype="FLOAT")


def test_report_scores_every_method_on_the_same_tracks(
    tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _track(tmp_path / "test" / f"a__{HELD_OUT_SOUNDFONT[:-4]}", 0)
    _track(tmp_path / "test" / "b__FluidR3_GM", 1)
    assert (
        main(
            [
                "--json",
                "--data",
                str(tmp_path),
                "--checkpoint",
                str(tiny_checkpoint),
                "--threads",
                "1",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    overall = report["sdr_db"]["all"]
    oracles = {"oracle_irm", "oracle_internal_mask", "oracle_internal_stereo_mask"}
    assert set(overall) == {"tiny", "hpss", *oracles}
    assert report["test_set"]["tracks"] == 2
    assert report["test_set"]["held_out_soundfont_tracks"] == 1
    assert overall["oracle_irm"]["mean"] > overall["tiny"]["mean"] + 3
    assert overall["oracle_internal_mask"]["mean"] > overall["tiny"]["mean"] + 3
    assert report["goals"]["gap_to_oracle_irm_db"] == pytest.approx(
        overall["oracle_irm"]["mean"] - overall["tiny"]["mean"], abs=0.02
    )
    assert set(report["per_track"]) == {f"a__{HELD_OUT_SOUNDFONT[:-4]}", "b__FluidR3_GM"}


def test_generalisation_splits_are_reported_separately(
    tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _track(tmp_path / "test_style" / "test_style000__jazz__FluidR3_GM", 2)
    _track(tmp_path / "test_soundfont" / "test_soundfont000__pop__TimGM6mb", 3)
    argv = ["--json", "--data", str(tmp_path), "--checkpoint", str(tiny_checkpoint)]
    argv += ["--threads", "1", "--split", "test_style", "--split", "test_soundfont"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["sdr_db"]) == {"all", "test_style", "test_soundfont"}
    assert report["test_set"]["splits"] == {"test_style": 1, "test_soundfont": 1}
    for split in ("test_style", "test_soundfont"):
        goals = report["goals"]["splits"][split]
        scores = report["sdr_db"][split]
        assert goals["gap_to_oracle_irm_db"] == pytest.approx(
            scores["oracle_irm"]["mean"] - scores["tiny"]["mean"], abs=0.02
        )
        assert goals["within_2_5db_of_oracle"] is False  # an untrained network
        assert goals["other_db"] == scores["tiny"]["other"]
    assert main([*argv[:-1], "test_missing"]) == 2  # a split that was never built


def test_quick_scores_only_the_checkpoints_and_the_oracle(
    tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _track(tmp_path / "test" / "b__FluidR3_GM", 1)
    argv = ["--json", "--quick", "--data", str(tmp_path), "--checkpoint", str(tiny_checkpoint)]
    assert main([*argv, "--threads", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["sdr_db"]["all"]) == {"tiny", "oracle_irm"}
    assert "gap_to_oracle_irm_db" in report["goals"]
    assert "drums_minus_hpss_db" not in report["goals"]


def test_without_split_it_scores_the_held_out_style_and_soundfont(
    tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The many-style data's two held-out splits are the default; the chorale `test` split
    is scored only when `--data` holds no others."""
    _track(tmp_path / "test_style" / "test_style000__jazz__FluidR3_GM", 2)
    _track(tmp_path / "test_soundfont" / "test_soundfont000__pop__TimGM6mb", 3)
    argv = ["--json", "--quick", "--data", str(tmp_path), "--checkpoint", str(tiny_checkpoint)]
    assert main([*argv, "--threads", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["test_set"]["splits"] == {"test_style": 1, "test_soundfont": 1}
    assert set(report["goals"]["splits"]) == {"test_style", "test_soundfont"}


def test_with_no_songs_built_it_says_what_builds_them(
    tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--json", "--data", str(tmp_path), "--checkpoint", str(tiny_checkpoint)]
    assert main(argv) == 2
    assert "build_data --only test" in capsys.readouterr().err
    assert main([*argv, "--split", "test_style"]) == 2
    message = capsys.readouterr().err
    assert "dawhost eval separation --build-data" in message
    assert "build_styles --only test_style --only test_soundfont" in message


def test_the_eval_task_needs_only_the_many_style_test_songs() -> None:
    from plugins.separation.plugin import register_tasks

    task = next(t for t in register_tasks() if t.kind == "eval")
    assert task.data is not None
    assert task.data.marker.parts[-2:] == ("separation-styles", "test_soundfont")
    assert task.data.builder == "plugins.separation.build_styles"
    assert task.data.build_args == ("--only", "test_style", "--only", "test_soundfont")
    assert task.data.applies(["--json"])
    assert not task.data.applies(["--data", "data/separation", "--split", "test"])
