"""The user-level phrase measurement: renders through `dawhost run` (a tiny checkpoint through
the manifest), reports each note's span and band level, the error against FluidSynth and the
render's true peak; notes are parsed in beats at the tempo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from plugins.melnet.audio import SAMPLE_RATE
from plugins.melnet.phrase_levels import main, parse_notes, span_levels_dbfs


def test_notes_are_beats_at_the_tempo_and_bad_groups_are_refused() -> None:
    rows = parse_notes("60 100 0 1 67 90 1 2", 120.0)
    assert rows.tolist() == [[60, 100, 0.0, 0.5], [67, 90, 0.5, 1.5]]
    with pytest.raises(SystemExit, match="groups of 4"):
        parse_notes("60 100 0", 120.0)


def test_span_level_is_the_rms_of_the_span() -> None:
    audio = np.zeros(SAMPLE_RATE, np.float32)
    audio[: SAMPLE_RATE // 2] = 0.5  # -6.02 dBFS, then silence
    levels = span_levels_dbfs(audio, parse_notes("60 100 0 1 67 100 1 1", 120.0))
    assert levels[0] == pytest.approx(-6.02, abs=0.01) and levels[1] < -200


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="needs fluidsynth")
def test_the_command_renders_through_dawhost_run_and_measures_every_note(
    tmp_path: Path,
    tiny_checkpoint: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        f'[plugins.melnet]\nmodule = "plugins.melnet.plugin"\n\n'
        f'[models.melnet]\ncheckpoint = "{tiny_checkpoint}"\n'
    )
    monkeypatch.setenv("DAWHOST_MANIFEST", str(manifest))
    argv = ["--instruments", "flute", "--seeds", "3", "--vocoder", "griffin-lim", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    (render,) = report["flute"]["renders"]
    assert render["seed"] == 3 and len(render["span_dbfs"]) == len(render["band_db"]) == 2
    assert render["true_peak_dbfs"] == pytest.approx(-1.0, abs=0.05)  # normalised by default
    assert len(render["step_error_db"]) == 1 and render["dropped"] in (0, 1, 2)
    assert len(report["flute"]["fluidsynth"]["span_dbfs"]) == 2
