"""Per-note level error: a note made 30 dB quieter is measured as such and counted as
dropped, overall gain is not an error, and held-out phrases cover every instrument."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from plugins.melnet.audio import SAMPLE_RATE
from plugins.melnet.note_levels import (
    held_out_phrases,
    main,
    note_level_errors,
    note_levels_db,
    summarise,
)
from plugins.melnet.vocoder import MelVocoder, VocoderConfig, save_vocoder

OTHER_SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")  # Debian timgm6mb-soundfont
ROWS = np.array(
    [[60, 100, 0.0, 0.5], [67, 100, 0.5, 1.0], [64, 100, 1.0, 1.5], [72, 100, 1.5, 2.0]],
    np.float32,
)


def _tones(gains_db: list[float]) -> np.ndarray:
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    audio = np.zeros_like(t)
    for (pitch, _, start, end), gain in zip(ROWS, gains_db, strict=True):
        hz = 440.0 * 2 ** ((pitch - 69) / 12)
        inside = (t >= start) & (t < end)
        audio += inside * 10 ** (gain / 20) * 0.3 * np.sin(2 * np.pi * hz * t)
    return audio.astype(np.float32)


def test_a_quiet_note_is_measured_and_dropped_while_overall_gain_is_not_an_error() -> None:
    reference = _tones([0, 0, 0, 0])
    errors = note_level_errors(reference, 0.1 * _tones([0, -30, 0, 0]), ROWS)
    assert errors[1] == pytest.approx(-30.0, abs=1.5)
    assert np.abs(errors[[0, 2, 3]]).max() < 1.0
    summary = summarise(errors)
    assert summary["dropped_notes"] == 1 and summary["max_abs_error_db"] > 28
    same = summarise(note_level_errors(reference, 0.5 * reference, ROWS))
    assert same["dropped_notes"] == 0 and same["max_abs_error_db"] < 0.01


def test_levels_follow_the_band_not_other_notes() -> None:
    loud_c4_only = _tones([0, -80, -80, -80])
    levels = note_levels_db(loud_c4_only, ROWS)
    assert levels[0] - levels[1] > 40  # G4's band over its own span holds nothing of C4


def test_held_out_phrases_are_test_split_figures_of_each_instrument() -> None:
    phrases = held_out_phrases(4, 3.0)
    assert [instrument for _, instrument, _ in phrases] == ["piano", "guitar", "strings", "flute"]
    for rows, _, seconds in phrases:
        assert len(rows) >= 2 and seconds <= 3.0 and (rows[:, 3] <= seconds).all()


def test_the_report_scores_every_system_on_phrases_and_the_flute_case(
    tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torch.manual_seed(0)
    vocoder = tmp_path / "vocoder.pt"
    save_vocoder(vocoder, MelVocoder(VocoderConfig(width=16, blocks=1, kernel=3)), {})
    argv = ["--json", "--checkpoint", str(tiny_checkpoint), "--vocoder", str(vocoder)]
    argv += ["--candidate", str(tiny_checkpoint), "--soundfont", str(OTHER_SOUNDFONT)]
    assert main([*argv, "--phrases", "1", "--seconds", "1.5", "--seeds", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["settings"]["soundfont"] == str(OTHER_SOUNDFONT)
    systems = {"melnet_neural", "melnet_griffin_lim", "baseline_griffin_lim_of_reference"}
    systems.add("candidate_neural")
    for name in systems | {"baseline_sine_synth"}:
        assert report["held_out_phrases"][name]["notes"] >= 2
        assert len(report["flute_g4_after_c4"]["c4_g4"][f"{name}_g4_error_vs_c4_db"]) == 1
    # the vocoder alone on FluidSynth's own spectrogram keeps every note's level
    assert report["held_out_phrases"]["baseline_griffin_lim_of_reference"]["dropped_notes"] == 0
