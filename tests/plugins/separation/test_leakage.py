"""The two-instrument leakage check: the clips hold a piano and a bass and nothing else, the
shares are the masks applied to each part alone (so they sum to one), and the ideal mask keeps
two parts in different octaves apart."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from plugins.separation import leakage
from plugins.separation.build_data import TEST_RATE
from plugins.separation.checkpoint import save_checkpoint
from plugins.separation.network import MMDenseNet
from plugins.separation.stems import N_BINS, STEMS


def sine(hz: float, seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(seconds * TEST_RATE)) / TEST_RATE
    mono = 0.3 * np.sin(2 * np.pi * hz * t).astype(np.float32)
    return np.stack([mono, mono], axis=1)


def two_sines() -> leakage.Clip:
    return leakage.Clip("sines", "test", "none", {"bass": sine(55.0), "other": sine(880.0)})


def test_all_of_a_part_goes_where_the_masks_send_it() -> None:
    clip = two_sines()
    frames = 2 * 43 + 1
    to_other = torch.zeros(len(STEMS), N_BINS, frames)
    to_other[STEMS.index("other")] = 1.0
    tally = leakage.Tally()
    tally.add(clip, to_other)
    summary = tally.summary()
    assert summary["piano_kept_in_other"] == pytest.approx(1.0, abs=1e-3)
    assert summary["bass_into_other"] == pytest.approx(1.0, abs=1e-3)
    assert summary["piano_into_bass"] == pytest.approx(0.0, abs=1e-3)
    assert sum(summary["share_of_bass_energy_per_stem"].values()) == pytest.approx(1.0, abs=1e-3)  # type: ignore[attr-defined]


def test_the_ideal_mask_keeps_parts_in_different_octaves_apart() -> None:
    clip = two_sines()
    tally = leakage.Tally()
    tally.add(clip, leakage.ideal_masks(clip.mix, TEST_RATE, clip.parts))
    summary = tally.summary()
    assert summary["piano_into_bass"] < 0.01 and summary["bass_into_other"] < 0.01
    assert summary["median_sdr_db"]["bass"] > 15  # type: ignore[index]


def test_clips_are_a_piano_and_a_bass_only() -> None:
    (clip,) = leakage.clips(1, styles=["pop"], soundfonts=["TimGM6mb.sf2"], seconds=2.0)
    assert set(clip.parts) == {"bass", "other"}
    for part in clip.parts.values():
        assert part.shape[1] == 2 and np.sqrt(np.mean(part**2)) > 1e-3  # both heard
    low = np.abs(np.fft.rfft(clip.parts["bass"][:, 0]))
    hz = np.fft.rfftfreq(len(clip.parts["bass"]), 1 / TEST_RATE)
    assert hz[np.argmax(low)] < 300  # the bass part is a bass


def test_the_report_scores_each_checkpoint_beside_the_ideal_mask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from plugins.separation.train import VARIANTS

    torch.manual_seed(0)
    tiny = tmp_path / "tiny.pt"
    save_checkpoint(tiny, MMDenseNet(VARIANTS["tiny"]).eval(), {"step": 0, "variant": "tiny"})
    monkeypatch.setattr(leakage, "DEFAULT_CHECKPOINT", tiny)
    monkeypatch.setattr(leakage, "SOUNDFONTS", ("TimGM6mb.sf2",))
    monkeypatch.setattr(leakage, "STYLES", {"pop": leakage.STYLES["pop"]})
    monkeypatch.setattr(leakage, "SECONDS", 2.0)
    report_path = tmp_path / "leak.json"
    assert leakage.main(["--clips", "1", "--json", "--report", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert json.loads(capsys.readouterr().out) == report
    assert set(report["results"]) == {"all", "held_out_soundfont"}  # no jazz clip here
    assert set(report["results"]["all"]) == {"clips", "shipped", "ideal_internal_mask"}
    row = report["results"]["all"]["shipped"]
    assert 0.0 <= row["piano_into_bass"] <= 1.0
