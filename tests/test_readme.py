"""The README's quick start runs as written: every command of its first shell block, in order, in
a folder holding only what a fresh clone has (examples/) and the set-up .venv, and each result
is what the README says it is (a continuation after the primer, audio exactly `bars` long at the
tempo, four stems as long as the loop, a sung line with its syllables)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import mido
import soundfile

PROJECT = Path(__file__).resolve().parents[1]
MARKER = "<!-- quick start: tests/test_readme.py"


def quick_start_commands() -> list[str]:
    text = (PROJECT / "README.md").read_text()
    block = re.search(re.escape(MARKER) + r".*?\n```sh\n(.*?)\n```", text, re.S)
    assert block, "README.md has no quick-start block after its marker"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_quick_start_block_is_what_a_new_user_types() -> None:
    commands = quick_start_commands()
    assert commands[:3] == ["make setup", ". .venv/bin/activate", "dawhost models"]
    assert all(c.startswith("dawhost ") for c in commands[2:]), commands
    used = {p for c in commands for p in re.findall(r"examples/\S+", c)}
    assert used and all((PROJECT / p).is_file() for p in used), used  # committed, not built


def test_every_quick_start_command_runs_as_written(tmp_path: Path) -> None:
    commands = quick_start_commands()
    shutil.copytree(PROJECT / "examples", tmp_path / "examples")
    # This test runs inside the environment `make setup` made: reuse it rather than repeat it.
    venv = Path(sys.prefix)
    (tmp_path / ".venv").symlink_to(venv)
    home = tmp_path / "home"  # the default work folder is ~/dawhost-work: keep it in here
    home.mkdir()
    script = "set -e\n" + "\n".join(c for c in commands if c != "make setup") + "\n"
    env = {**os.environ, "HOME": str(home), "DAWHOST_DISABLE": ""}
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    listed = result.stdout.split("{", 1)[0]  # `dawhost models`, before the first JSON report
    for model in ("music-transformer", "melnet", "separation", "vocal-tts"):
        assert model in listed

    out = tmp_path / "out"
    # The primer where it was (bars 1-2), then the 4 bars of continuation asked for (bars 3-6).
    onsets = _onsets(mido.MidiFile(out / "more.mid"))
    primer = _onsets(mido.MidiFile(tmp_path / "examples/primer.mid"))
    assert [b for b in onsets if b < 8] == primer
    continuation = [b for b in onsets if b >= 8]
    assert len(continuation) >= 4 and max(continuation) < 24

    strings, rate = soundfile.read(out / "strings.wav")
    assert len(strings) == round(6 * 4 * 60 / 96 * rate)  # 6 bars at 96 BPM
    assert abs(strings).max() > 0.01

    loop, loop_rate = soundfile.read(tmp_path / "examples/loop.wav")
    stems = sorted(p.name for p in (out / "stems").iterdir())
    assert stems == ["bass.wav", "drums.wav", "other.wav", "vocals.wav"]
    for stem in stems:
        audio, stem_rate = soundfile.read(out / "stems" / stem)
        assert (len(audio), stem_rate) == (len(loop), loop_rate)

    line, rate = soundfile.read(out / "line.wav")
    assert len(line) == round(2 * 4 * 60 / 96 * rate)
    syllables = json.loads((out / "line.syllables.json").read_text())["syllables"]
    assert [s["word"] for s in syllables] == ["hot", "cross", "buns"] * 2


def _onsets(song: mido.MidiFile) -> list[float]:
    beats, now = [], 0
    for message in mido.merge_tracks(song.tracks):
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            beats.append(now / song.ticks_per_beat)
    return beats
