"""The `dawhost` command end to end, in subprocesses, with the fake plugin as the manifest."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host.outputs import Note
from host.smf import encode_smf

DAWHOST = [sys.executable, "-m", "host.cli"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text('[plugins.fakes]\nmodule = "tests.fakes"\n')
    root = Path(__file__).resolve().parents[2]
    return {**os.environ, "DAWHOST_MANIFEST": str(manifest), "PYTHONPATH": str(root)}


def test_models_json_lists_schema_and_state(env: dict[str, str]) -> None:
    result = subprocess.run(
        [*DAWHOST, "models", "--json"], env=env, capture_output=True, text=True, check=True
    )
    models = {m["id"]: m for m in json.loads(result.stdout)["models"]}
    echo = models["fake-echo"]
    assert echo["capabilities"] == ["continue_midi"] and echo["causal"] is True
    repeats = next(o for o in echo["options"] if o["name"] == "repeats")
    assert (repeats["minimum"], repeats["maximum"], repeats["default"]) == (1, 8, 1)
    assert models["fake-sine"]["sample_rate"] == 8000 and echo["loaded"] is False


def test_run_writes_a_midi_file(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "echo.mid"
    result = subprocess.run(
        [
            *DAWHOST,
            "run",
            "fake-echo",
            "--primer",
            "60 100 0 1 62 100 1 1",
            "--repeats",
            "2",
            "--seed",
            "3",
            "--out",
            str(out),
            "--work-dir",
            str(tmp_path / "work"),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["provenance"]["seed"] == 3
    notes = [Note(60, 100, 0, 1), Note(62, 100, 1, 1), Note(60, 100, 2, 1), Note(62, 100, 3, 1)]
    assert out.read_bytes() == encode_smf(notes, 120.0)


def test_run_reports_bad_option(env: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run(
        [
            *DAWHOST,
            "run",
            "fake-echo",
            "--primer",
            "60 100 0 1",
            "--repeats",
            "50",
            "--out",
            str(tmp_path / "x.mid"),
            "--work-dir",
            str(tmp_path / "work"),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "repeats" in result.stderr and "1 to 8" in result.stderr


def test_models_listing_leaves_out_plugins_disabled_in_the_environment(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "fake_more.py").write_text(
        "import host\nfrom tests.fakes import EchoContinuer\n\n"
        "class Other(EchoContinuer):\n    model_id = 'fake-other'\n\n"
        "@host.hookimpl\ndef register_models():\n    yield Other()\n"
    )
    manifest = Path(env["DAWHOST_MANIFEST"])
    manifest.write_text(manifest.read_text() + '[plugins.more]\nmodule = "fake_more"\n')
    env = {**env, "PYTHONPATH": f"{tmp_path}{os.pathsep}{env['PYTHONPATH']}"}

    def listed(extra: dict[str, str]) -> set[str]:
        result = subprocess.run(
            [*DAWHOST, "models", "--json"],
            env={**env, **extra},
            capture_output=True,
            text=True,
            check=True,
        )
        return {m["id"] for m in json.loads(result.stdout)["models"]}

    assert {"fake-other", "fake-echo"} <= listed({})
    without = listed({"DAWHOST_DISABLE": "more"})
    assert "fake-other" not in without and "fake-echo" in without


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_starts_and_stops_cleanly_on_a_signal(
    env: dict[str, str], tmp_path: Path, stop_signal: signal.Signals
) -> None:
    manifest = Path(env["DAWHOST_MANIFEST"])  # a front-end whose port shows it is serving
    manifest.write_text(manifest.read_text() + '[plugins.ws]\nmodule = "protocols.websocket"\n')
    with socket.socket() as probe:  # a free TCP port for the WebSocket front-end
        probe.bind(("127.0.0.1", 0))
        ws_port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            *DAWHOST,
            "serve",
            "--no-midi",
            "--work-dir",
            str(tmp_path / "work"),
            "--ws-port",
            str(ws_port),
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        assert process.stderr is not None
        for line in process.stderr:
            if "dawhost ready" in line:
                assert "fake-echo" in line
                break
            assert time.monotonic() < deadline
        socket.create_connection(("127.0.0.1", ws_port), timeout=5).close()  # serving
        process.send_signal(stop_signal)
        assert process.wait(timeout=10) == 0
        with pytest.raises(ConnectionRefusedError):  # and the port is closed
            socket.create_connection(("127.0.0.1", ws_port), timeout=5).close()
    finally:
        process.kill()
        process.wait()
        process.stderr.close()


def test_smf_encoding_is_standard() -> None:
    data = encode_smf([Note(60, 100, 0.0, 1.0)], tempo=120)
    assert data[:4] == b"MThd" and data[14:18] == b"MTrk"
    assert b"\xff\x51\x03\x07\xa1\x20" in data  # 500,000 us per beat
    assert b"\x00\x90\x3c\x64" in data and b"\x83\x60\x80\x3c\x00" in data  # on, off at 480


def test_each_note_output_name_gets_its_own_file(tmp_path: Path) -> None:
    from host.cli_run import write_outputs
    from host.outputs import NotesOutput

    outputs = [
        NotesOutput([Note(60, 100, 0, 1)], name="notes-1", final=False),
        NotesOutput([Note(62, 100, 0, 1)], name="notes-2", final=False),
        NotesOutput([Note(64, 100, 1, 1)], name="notes-1"),
    ]
    written = write_outputs(outputs, tmp_path / "y.mid", 120.0)
    assert written == [tmp_path / "y-notes-1.mid", tmp_path / "y-notes-2.mid"]
    notes_1 = [Note(60, 100, 0, 1), Note(64, 100, 1, 1)]
    assert written[0].read_bytes() == encode_smf(notes_1, 120.0)


def test_a_model_tempo_option_and_the_tempo_flag_do_not_clash() -> None:
    import host
    from host.cli_run import run_parser
    from tests.fakes import SineRenderer

    class WithTempo(SineRenderer):
        class Options(host.Options):
            tempo: float = host.Field(0.0, ge=0, le=300, description="0 = transport")

    args = run_parser(WithTempo()).parse_args(["--tempo", "96", "--out", "x.wav"])
    assert args.option_tempo == 96.0
    args = run_parser(SineRenderer()).parse_args(["--tempo", "96", "--out", "x.wav"])
    assert args.transport_tempo == 96.0
