"""The many-style data builder: the held-out style and soundfont never reach training, each
test split holds out only its own thing, and a tiny build (2 s songs) writes train/val arrays
and test WAVs whose stems sum to the mixture."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from plugins.separation import build_styles
from plugins.separation.build_styles import generalisation, tasks
from plugins.separation.stems import STEMS, soundfont_path


def test_held_out_style_and_soundfont_stay_out_of_training() -> None:
    gen = generalisation()
    todo = tasks(kits=["KitA", "KitB"])
    by_split = {s: [t for t in todo if t.split == s] for s in build_styles.SONGS}
    assert {s: len(v) for s, v in by_split.items()} == build_styles.SONGS
    for task in by_split["train"] + by_split["val"]:
        assert task.style != gen["held_out_style"]
        assert task.soundfont != gen["held_out_soundfont"]
    assert {t.style for t in by_split["train"]} == set(gen["train_styles"])  # type: ignore[arg-type]
    assert {t.soundfont for t in by_split["train"]} == set(gen["train_soundfonts"])  # type: ignore[arg-type]
    assert {t.style for t in by_split["test_style"]} == {gen["held_out_style"]}
    fonts = set(gen["train_soundfonts"])  # type: ignore[arg-type]
    assert {t.soundfont for t in by_split["test_style"]} == fonts
    assert {t.soundfont for t in by_split["val"]} == fonts
    assert {t.soundfont for t in by_split["test_soundfont"]} == {gen["held_out_soundfont"]}
    assert all(t.kit is None for t in by_split["test_soundfont"])  # its own drums too
    assert any(t.kit for t in by_split["train"]) and any(t.effects for t in by_split["train"])
    assert len({t.name for t in todo}) == len(todo)
    assert tasks(kits=["KitA", "KitB"]) == todo  # the same songs every build


def test_tiny_build_writes_every_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fluidsynth")
    pytest.importorskip("pedalboard")
    try:
        soundfont_path(str(generalisation()["held_out_soundfont"]))
        soundfont_path("FluidR3_GM.sf2")
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    monkeypatch.setattr(build_styles, "SUNG_CHANCE", 0.0)  # sung.py has its own tests
    monkeypatch.setattr(build_styles, "EFFECTS_CHANCE", 1.0)
    counts = ["--train", "1", "--val", "1", "--test-style", "1", "--test-soundfont", "1"]
    assert build_styles.main(["--out", str(tmp_path), "--seconds", "2", *counts]) == 0
    for split in ("train", "val"):
        (song,) = (tmp_path / split).glob("*.npy")
        array = np.load(song)
        assert array.shape[:2] == (len(STEMS), 2) and array.dtype == np.float16
        assert 2.0 * 11_025 <= array.shape[-1] <= 9.0 * 11_025  # at least two bars + tail
    for split in ("test_style", "test_soundfont"):
        (folder,) = (tmp_path / split).iterdir()
        mixture, rate = soundfile.read(folder / "mixture.wav", dtype="float32")
        stems = [soundfile.read(folder / f"{s}.wav", dtype="float32")[0] for s in STEMS]
        assert rate == 44_100 and mixture.shape[1] == 2
        assert np.allclose(sum(stems), mixture, atol=1e-5)
        assert 0 < np.max(np.abs(mixture)) <= 0.95 + 1e-6
    record = json.loads((tmp_path / "build.json").read_text())
    assert record["generalisation"] == generalisation()
    lines = (tmp_path / "index.jsonl").read_text().splitlines()
    assert len(lines) == 4
    # a second run finds every song and renders nothing again
    assert build_styles.main(["--out", str(tmp_path), "--seconds", "2", *counts]) == 0
    assert len((tmp_path / "index.jsonl").read_text().splitlines()) == 4
