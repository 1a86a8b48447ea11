"""`dawhost run transcribe --audio X --out Y.mid` with the shipped checkpoint: the file on the
command line comes back as a MIDI file of the notes played in it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mido
import soundfile

from tests.plugins.transcribe.conftest import melody


def test_run_transcribe_writes_the_notes_as_a_midi_file(tmp_path: Path) -> None:
    audio = tmp_path / "phrase.wav"
    soundfile.write(audio, melody(44_100), 44_100)  # A4, C5, E5, half a second each
    out = tmp_path / "phrase.mid"
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-m", "host.cli", "run", "transcribe", "--audio", str(audio)]
        + ["--monophonic", "--tempo", "120", "--out", str(out), "--work-dir", str(tmp_path / "w")],
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        cwd=root,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    ons = [m for m in mido.MidiFile(out).tracks[0] if m.type == "note_on" and m.velocity > 0]
    assert [m.note for m in ons] == [69, 72, 76]
