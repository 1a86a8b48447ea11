"""What the shell user types: `--out` decides the format (or is refused before the model runs),
boolean options are `--flag` / `--no-flag`, missing files are named, `dawhost run` alone lists
the models, and a task that needs data built on this machine says so and builds it on request."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

import host
from host.cli_run import CliError, check_out, cli_input, produces, run_parser
from host.cli_tasks import cmd_task
from host.model import InputKind
from host.tasks import DataNeed, Task
from tests.fakes import EchoContinuer, SineRenderer

DAWHOST = [sys.executable, "-m", "host.cli"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text('[plugins.fakes]\nmodule = "tests.fakes"\n')
    root = Path(__file__).resolve().parents[2]
    return {**os.environ, "DAWHOST_MANIFEST": str(manifest), "PYTHONPATH": str(root)}


def dawhost(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DAWHOST, *args], env=env, capture_output=True, text=True)


def test_notes_into_a_wav_are_refused_before_the_model_runs(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "x.wav"
    work = str(tmp_path / "work")
    result = dawhost(
        env, "run", "fake-echo", "--primer", "60 100 0 1", "--out", str(out), "--work-dir", work
    )
    assert result.returncode == 2
    assert "fake-echo writes notes" in result.stderr and ".mid" in result.stderr
    assert not out.exists() and not (tmp_path / "work").exists()  # nothing ran, nothing written


def test_out_formats_for_each_kind_of_result(tmp_path: Path) -> None:
    check_out(Path("y.mid"), "notes", "m")
    check_out(Path("y.json"), "notes", "m")
    check_out(Path("y.flac"), "audio", "m")
    check_out(Path("stems/"), "stems", "m")
    for out, kind in [("y.wav", "notes"), ("y.mid", "audio"), ("y", "audio"), ("s.wav", "stems")]:
        with pytest.raises(CliError, match=str(out)):
            check_out(Path(out), kind, "m")
    assert produces(EchoContinuer(), "continue") == "notes"
    assert produces(SineRenderer(), "render") == "audio"


def test_boolean_options_are_flags_with_a_no_form() -> None:
    class WithSwitch(SineRenderer):
        class Options(host.Options):
            wiener: bool = host.Field(False, description="refine")
            trim_to_bars: bool = host.Field(True, description="trim")

    parser = run_parser(WithSwitch())
    args = parser.parse_args(["--wiener", "--no-trim-to-bars", "--out", "x.wav"])
    assert (args.option_wiener, args.option_trim_to_bars) == (True, False)
    args = parser.parse_args(["--out", "x.wav"])  # unset: the model's (or manifest's) default
    assert (args.option_wiener, args.option_trim_to_bars) == (None, None)
    assert "--no-wiener" in parser.format_help()


def test_an_optional_option_takes_none_and_says_so() -> None:
    class WithTempo(SineRenderer):
        class Options(host.Options):
            tempo: float | None = host.Field(None, ge=20.0, le=300.0, description="BPM")

    parser = run_parser(WithTempo())
    assert parser.parse_args(["--tempo", "none", "--out", "x.wav"]).option_tempo is None
    assert parser.parse_args(["--tempo", "96", "--out", "x.wav"]).option_tempo == 96.0
    assert "default none, 20..300 or none" in " ".join(parser.format_help().split())


def test_a_missing_input_file_is_named(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(CliError, match=r"not found: phrase\.mid \(--primer\)"):
        cli_input("primer", InputKind.NOTES, "phrase.mid")
    with pytest.raises(CliError, match=r"not found: song\.wav \(--input\)"):
        cli_input("input", InputKind.AUDIO_FILE, "song.wav")
    with pytest.raises(CliError, match="not notes"):
        cli_input("primer", InputKind.NOTES, "sixty")
    assert cli_input("primer", InputKind.NOTES, "60 100 0 1") == ([60, 100, 0, 1], None)
    result = dawhost(env, "run", "fake-echo", "--primer", "phrase.mid", "--out", "x.mid")
    assert result.returncode == 2 and "not found: phrase.mid" in result.stderr


def test_run_alone_lists_the_models(env: dict[str, str]) -> None:
    result = dawhost(env, "run")
    assert result.returncode == 2
    assert "fake-echo" in result.stderr and "fake-sine" in result.stderr
    assert "--primer" in result.stderr  # and what each one takes
    unknown = dawhost(env, "run", "no-such-model")
    assert "no model 'no-such-model'" in unknown.stderr and "fake-echo" in unknown.stderr


def _task_with_data(tmp_path: Path, ran: list[Sequence[str]]) -> Task:
    (tmp_path / "builder_mod.py").write_text(
        "from pathlib import Path\nimport sys\n"
        "def main(argv):\n"
        "    Path(argv[0]).mkdir(parents=True)\n"
        "    (Path(argv[0]) / 'x.npz').write_text('built')\n"
        "    return 0\n"
    )
    sys.path.insert(0, str(tmp_path))
    data = tmp_path / "data"

    def evaluate(argv: Sequence[str]) -> int:
        ran.append(list(argv))
        return 0

    need = DataNeed(data, "builder_mod", 7, (str(data),))
    return Task("eval", "thing", "Scores the thing", evaluate, need)


def test_a_task_says_up_front_that_its_data_must_be_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[Sequence[str]] = []
    try:
        task = _task_with_data(tmp_path, ran)
        assert cmd_task("eval", ["thing", "--json"], [task]) == 2
        message = capsys.readouterr().err
        assert "about 7 minutes" in message and "dawhost eval thing --build-data" in message
        assert ran == [] and not (tmp_path / "data").exists()

        assert cmd_task("eval", ["thing", "--build-data", "--json"], [task]) == 0
        assert (tmp_path / "data" / "x.npz").read_text() == "built"
        assert ran == [["--json"]]  # the task never sees --build-data
        assert cmd_task("eval", ["thing"], [task]) == 0  # built: runs at once
        assert ran == [["--json"], []]
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("builder_mod", None)


def test_a_task_pointed_at_other_data_does_not_need_its_default_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[Sequence[str]] = []

    def evaluate(argv: Sequence[str]) -> int:
        ran.append(list(argv))
        return 0

    need = DataNeed(tmp_path / "default", "no_such_builder", 3, unless=("--data",))
    task = Task("eval", "thing", "Scores the thing", evaluate, need)
    assert cmd_task("eval", ["thing", "--data", "elsewhere"], [task]) == 0
    assert cmd_task("eval", ["thing", "--data=elsewhere"], [task]) == 0
    assert ran == [["--data", "elsewhere"], ["--data=elsewhere"]]
    assert cmd_task("eval", ["thing", "--database"], [task]) == 2  # not the same option
    assert "needs data that is built" in capsys.readouterr().err
    # --build-data with --data: nothing to build there, and it says why
    assert cmd_task("eval", ["thing", "--build-data", "--data", "x"], [task]) == 0
    assert "builds only the default data" in capsys.readouterr().err
    assert not (tmp_path / "default").exists()


def test_eval_alone_lists_tasks_and_which_need_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        task = _task_with_data(tmp_path, [])
        assert cmd_task("eval", [], [task]) == 2
        assert "thing" in (err := capsys.readouterr().err) and "needs data: --build-data" in err
    finally:
        sys.path.remove(str(tmp_path))


def test_bench_music_transformer_imports_outside_the_source_tree(tmp_path: Path) -> None:
    """`dawhost bench music-transformer` once failed from any folder: it imported tests/."""
    code = "import benchmarks.bench_music_transformer as b; print(b.InstantEcho.model_id)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "bench-echo"
