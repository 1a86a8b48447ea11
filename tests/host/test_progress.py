"""host.progress: eval/bench loops report on stderr (a bar on a terminal, lines in a log,
nothing with --quiet) and stdout keeps only the JSON report."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from host import progress
from host.cli_tasks import cmd_task
from host.progress import Stage, track
from host.tasks import DataNeed, Task

DAWHOST = [sys.executable, "-m", "host.cli"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(progress.ENV, "lines")


@pytest.fixture
def fake_env(tmp_path: Path) -> dict[str, str]:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text('[plugins.fakes]\nmodule = "tests.fakes"\n')
    env = {k: v for k, v in os.environ.items() if k != progress.ENV}
    return {**env, "DAWHOST_MANIFEST": str(manifest), "PYTHONPATH": str(ROOT)}


def test_lines_mode_prints_each_tenth_and_the_end(
    lines: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(progress, "LINE_MIN_SECONDS", 0.0)
    assert list(track(["a", "b", "c"], "scoring")) == ["a", "b", "c"]
    captured = capsys.readouterr()
    assert captured.out == ""
    shown = [re.sub(r", \d+ s$", "", line) for line in captured.err.splitlines()]
    assert shown == [
        "scoring 0/3 (0%)",
        "scoring 1/3 (33%)",
        "scoring 2/3 (66%)",
        "scoring 3/3 (100%)",
    ]


def test_lines_are_rationed_on_a_long_loop(
    lines: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fast loop of 10,000 steps writes its first and last line, not 10,000 (a log of a
    20-minute evaluation stays readable)."""
    monkeypatch.setattr(progress, "LINE_MIN_SECONDS", 3600.0)
    monkeypatch.setattr(progress, "LINE_EVERY_SECONDS", 3600.0)
    assert sum(1 for _ in track(range(10_000), "windows")) == 10_000
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("windows 0/10000") and "10000/10000" in err[1]


def test_a_loop_left_early_says_where_it_stopped(
    lines: None, capsys: pytest.CaptureFixture[str]
) -> None:
    for item in track(range(10), "clips"):
        if item == 4:
            break
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("clips 4/10") and last.endswith("(stopped)")


def test_counting_passes_results_through_and_closes_at_its_total(
    lines: None, capsys: pytest.CaptureFixture[str]
) -> None:
    stage = Stage("bench", 2, unit="measurement")
    double = stage.counting(lambda x: 2 * x)
    assert [double(1), double(5)] == [2, 10]
    assert stage.count == 2 and stage.mode == "off"  # finished: later calls draw nothing
    assert capsys.readouterr().err.splitlines()[-1].startswith("bench 2/2 (100%)")


def test_off_and_quiet_draw_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(progress.ENV, "off")
    assert list(track(range(3), "x")) == [0, 1, 2]
    progress.note("a figure")
    monkeypatch.delenv(progress.ENV)
    monkeypatch.setattr(progress, "_mode", "auto")
    progress.set_mode("off")
    assert list(track(range(3), "y")) == [0, 1, 2]
    assert capsys.readouterr().err == ""
    with pytest.raises(ValueError, match="progress mode 'loud'"):
        progress.set_mode("loud")  # type: ignore[arg-type]


def test_bar_mode_draws_a_tqdm_bar(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(progress.ENV, "bar")
    assert list(track(range(4), "renders", unit="clip")) == [0, 1, 2, 3]
    err = capsys.readouterr().err
    assert "renders" in err and "100%" in err and "4/4" in err


def _fake_eval(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DAWHOST, "eval", "fake", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_a_piped_eval_logs_lines_and_quiet_logs_nothing(fake_env: dict[str, str]) -> None:
    piped = _fake_eval(fake_env, "--steps", "5", "--json")
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout) == {"task": "fake", "steps": 5}
    assert "fake: steps 0/5 (0%)" in piped.stderr and "fake: steps 5/5 (100%)" in piped.stderr
    assert "dawhost eval fake: finished in" in piped.stderr

    quiet = _fake_eval(fake_env, "--steps", "5", "--quiet", "--json")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert json.loads(quiet.stdout) == {"task": "fake", "steps": 5}  # the task never saw --quiet


@pytest.mark.parametrize("columns", [100, 0])  # 0: a pty that reports no width (`script`)
def test_on_a_terminal_the_eval_draws_a_bar_and_stdout_stays_json(
    fake_env: dict[str, str], columns: int
) -> None:
    leader, follower = pty.openpty()
    if columns:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    try:
        process = subprocess.Popen(
            [*DAWHOST, "eval", "fake", "--steps", "7", "--json"],
            env=fake_env,
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
        )
        out, _ = process.communicate(timeout=120)
        os.close(follower)
        follower = -1
        drawn = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal is closed once everything was read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert process.returncode == 0
    assert json.loads(out) == {"task": "fake", "steps": 7}
    text = drawn.decode(errors="replace")
    assert "fake: steps" in text and "7/7" in text and "100%|" in text and "\r" in text


def test_dawhost_eval_vocal_tts_shows_progress_on_stderr_and_json_on_stdout() -> None:
    """The case of issue 23: `dawhost eval vocal-tts` was silent for minutes. One sentence
    (about 30 s): each stage's lines reach 1/1 and stdout is the report alone."""
    env = {k: v for k, v in os.environ.items() if k != progress.ENV}
    result = subprocess.run(
        [*DAWHOST, "eval", "vocal-tts", "--sentences", "1", "--json"],
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["sentences"] == 1 and "wer_percent" in report["intelligibility"]
    # The singing stage names its voice (--voices all sings with every voice in turn).
    for stage in ("vocal-tts: intelligibility", "vocal-tts: singing (female)"):
        assert f"{stage} 0/1 (0%)" in result.stderr
        assert f"{stage} 1/1 (100%)" in result.stderr


def test_a_data_build_before_an_eval_keeps_stdout_for_the_report(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Data builders print their own progress (transcribe's did, into the eval's JSON):
    during `--build-data` whatever reaches stdout, from Python or straight to file
    descriptor 1, goes to stderr."""
    (tmp_path / "noisy_builder.py").write_text(
        "import os\nfrom pathlib import Path\n"
        "def main(argv):\n"
        "    print('parsed 641 corpus pieces')\n"
        "    os.write(1, b'test: 50/120\\n')\n"
        "    Path(argv[0]).mkdir(parents=True)\n"
        "    (Path(argv[0]) / 'x.npz').write_text('built')\n"
        "    return 0\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        data = tmp_path / "data"

        def evaluate(argv: Sequence[str]) -> int:
            print(json.dumps({"score": 1}))
            return 0

        task = Task(
            "eval", "noisy", "Scores", evaluate, DataNeed(data, "noisy_builder", 1, (str(data),))
        )
        assert cmd_task("eval", ["noisy", "--build-data", "--json"], [task]) == 0
        out, err = capfd.readouterr()
        assert json.loads(out) == {"score": 1}
        assert "parsed 641 corpus pieces" in err and "test: 50/120" in err
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("noisy_builder", None)


def test_quiet_also_silences_a_training_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    from host.training import Budget

    monkeypatch.setattr(progress, "_mode", "auto")
    monkeypatch.delenv(progress.ENV, raising=False)
    progress.set_mode("off")
    bar = Budget(steps=3).bar("train")
    assert bar.disable
    bar.close()
    progress.set_mode("auto")
    monkeypatch.setenv(progress.ENV, "bar")
    bar = Budget(steps=3).bar("train")
    assert not bar.disable
    bar.close()
