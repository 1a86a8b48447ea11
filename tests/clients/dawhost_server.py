"""Runs a real `dawhost serve` in a subprocess on free ports, for client tests.

The server loads `tests.clients.fake_models` (every verb covered, no torch), the project's own
model plugins from plugin_manifest.toml (registered but never loaded: weights load lazily, so
the Max patches' default model ids can be checked against the real schemas), and the OSC and
WebSocket front-ends. The test waits until OSCQuery and the page answer; the server is stopped
with SIGTERM (then killed).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
FRONT_ENDS_AND_FAKES = """\
[plugins.fakes]
module = "tests.clients.fake_models"

[plugins.osc]
module = "protocols.osc"

[plugins.oscquery]
module = "protocols.oscquery"

[plugins.websocket]
module = "protocols.websocket"
"""


def manifest_text(project_manifest: Path = PROJECT / "plugin_manifest.toml") -> str:
    """Fakes and front-ends, plus every model plugin the project's manifest lists."""
    text = FRONT_ENDS_AND_FAKES
    plugins = tomllib.loads(project_manifest.read_text()).get("plugins", {})
    for name, entry in plugins.items():
        module = entry.get("module", "")
        if module.startswith("plugins.") and entry.get("enabled", True):
            text += f'\n[plugins.{name}]\nmodule = "{module}"\n'
    return text


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports() -> dict[str, int]:
    """Ports for one server; UDP and TCP ports are drawn from both kinds of socket."""
    ports: dict[str, int] = {}
    while len(set(ports.values())) < 4:
        ports = {
            "osc": free_port(socket.SOCK_DGRAM),
            "reply": free_port(socket.SOCK_DGRAM),
            "oscquery": free_port(),
            "ws": free_port(),
        }
    return ports


@dataclass
class DawhostServer:
    process: subprocess.Popen[bytes]
    work_dir: Path
    log_path: Path
    osc_port: int
    reply_port: int
    oscquery_port: int
    ws_port: int

    @property
    def ports(self) -> dict[str, int]:
        return {
            "osc": self.osc_port,
            "reply": self.reply_port,
            "oscquery": self.oscquery_port,
            "ws": self.ws_port,
        }

    @property
    def page_url(self) -> str:
        return f"http://127.0.0.1:{self.ws_port}/"

    def oscquery(self, target: str = "/") -> Any:
        url = f"http://127.0.0.1:{self.oscquery_port}{target}"
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    tmp: Path,
    timeout: float = 30.0,
    ports: dict[str, int] | None = None,
    project_plugins: bool = True,
    extra_manifest: str = "",
) -> DawhostServer:
    """Start `dawhost serve` on free ports (or the given ones) and wait until it answers;
    without `project_plugins` only the fakes load (a faster start); `extra_manifest` adds
    plugin tables (e.g. the fault models)."""
    work_dir = tmp / "work"
    work_dir.mkdir(parents=True, exist_ok=True)
    manifest = tmp / "manifest.toml"
    manifest.write_text(
        (manifest_text() if project_plugins else FRONT_ENDS_AND_FAKES) + extra_manifest
    )
    ports = ports or free_ports()
    env = {**os.environ, "DAWHOST_MANIFEST": str(manifest), "PYTHONPATH": str(PROJECT)}
    env.pop("DAWHOST_DISABLE", None)
    log_path = tmp / "server.log"
    command = [
        sys.executable,
        "-m",
        "host.cli",
        "serve",
        "--no-midi",
        "--work-dir",
        str(work_dir),
        "--osc-port",
        str(ports["osc"]),
        "--reply-port",
        str(ports["reply"]),
        "--oscquery-port",
        str(ports["oscquery"]),
        "--ws-port",
        str(ports["ws"]),
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=PROJECT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    server = DawhostServer(
        process, work_dir, log_path, ports["osc"], ports["reply"], ports["oscquery"], ports["ws"]
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dawhost serve exited with {process.returncode}:\n{server.log()}")
        try:
            server.oscquery("/?HOST_INFO")
            urllib.request.urlopen(server.page_url, timeout=2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"dawhost serve did not answer within {timeout} s:\n{server.log()}")
