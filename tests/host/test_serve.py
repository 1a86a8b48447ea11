"""`serve` in-process: front-ends start (a failing one is reported), stop, and tasks run."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from host.cli import main
from host.config import ServerConfig
from host.serve import serve
from tests.fakes import RecordingFrontend


def test_serve_starts_frontends_and_survives_one_failing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text('[plugins.fakes]\nmodule = "tests.fakes"\n')
    config = ServerConfig(work_dir=tmp_path / "work", manifest=manifest)
    RecordingFrontend.instances.clear()
    seen = {}

    async def run() -> int:
        stop = asyncio.Event()

        def ready(core, frontends):  # type: ignore[no-untyped-def]
            seen["models"] = sorted(core.models)
            seen["frontends"] = frontends
            stop.set()

        return await serve(config, stop, on_ready=ready)

    with caplog.at_level(logging.ERROR):
        assert asyncio.run(run()) == 0
    failing, working = RecordingFrontend.instances
    assert failing.core is None and working.core is not None
    assert seen["frontends"] == [working] and working.stopped
    assert "front-end recording did not start" in caplog.text
    assert "address already in use" in caplog.text
    assert seen["models"] == ["fake-echo", "fake-sine"]


def test_task_runs_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text('[plugins.fakes]\nmodule = "tests.fakes"\n')
    monkeypatch.setenv("DAWHOST_MANIFEST", str(manifest))
    assert main(["bench", "fake", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"task": "fake", "argv": ["--json"]}
    assert main(["bench", "nope"]) == 2
    assert "fake  Prints its arguments as JSON" in capsys.readouterr().err  # what there is


def test_lazy_task_imports_its_module_only_when_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sys

    from host.tasks import Task

    (tmp_path / "slow_training_module.py").write_text(
        "def main(argv):\n    return len(argv) + 40\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    task = Task.lazy("train", "demo", "Trains the demo", "slow_training_module")
    assert "slow_training_module" not in sys.modules
    assert task.main(["a", "b"]) == 42
