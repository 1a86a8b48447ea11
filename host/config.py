"""Server settings (TOML config file + command-line flags) and the plugin manifest.

Settings are deployment facts: ports, folders, which plugins load, checkpoints. What a model can
do and which options it takes live in code, next to the model.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from host.executor import EngineSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = PROJECT_ROOT / "plugin_manifest.toml"


@dataclass
class ServerConfig:
    bind: str = "127.0.0.1"
    osc_port: int = 9000
    reply_port: int = 9001
    oscquery_port: int = 9002
    ws_port: int = 8765
    midi: bool = True
    midi_api: str = "default"  # "default" (ALSA/CoreMIDI), "jack", ...
    midi_latency_ms: float = 0.0
    link: bool = False  # Ableton Link multicasts on the network; opt in
    mdns: bool = False  # OSCQuery advertisement; opt in
    work_dir: Path = field(default_factory=lambda: Path("~/dawhost-work").expanduser())
    input_roots: list[Path] = field(default_factory=list)  # beyond loopback: where inputs may be
    jobs_quota: int = 10 * 1024**3  # bytes jobs/ may hold; the oldest finished jobs go first
    workers: int = 2  # jobs at once with executor = "thread" (processes: one per replica)
    model_queue_limit: int = 4
    total_queue_limit: int = 16
    job_timeout: float = 600.0
    disabled_plugins: set[str] = field(default_factory=set)
    preload: bool = False  # load every model's weights in the background at start
    manifest: Path = DEFAULT_MANIFEST
    engine: EngineSettings = field(default_factory=EngineSettings)  # the [engine] table
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)  # raw [osc], [midi] ...

    @property
    def loopback_only(self) -> bool:
        """Bound to loopback: only this machine's programs (the user's own) can connect."""
        name = self.bind.strip().lower()
        if name == "localhost":
            return True
        try:
            return ipaddress.ip_address(name.strip("[]")).is_loopback
        except ValueError:
            return False

    @classmethod
    def load(cls, path: Path | None = None, **overrides: Any) -> ServerConfig:
        """Defaults, then DAWHOST_MANIFEST, the TOML file's [server] and [engine] tables,
        DAWHOST_EXECUTOR and DAWHOST_DISABLE, then flags (overrides whose value is None are
        ignored)."""
        config = cls()
        if os.environ.get("DAWHOST_MANIFEST"):
            config.manifest = Path(os.environ["DAWHOST_MANIFEST"])
        if path is not None:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
            config.sections = {k: v for k, v in data.items() if isinstance(v, dict)}
            config._apply(data.get("server", {}), source=str(path))
            config.engine = EngineSettings.from_table(data.get("engine", {}), source=str(path))
        if os.environ.get("DAWHOST_EXECUTOR"):
            config.engine.executor = os.environ["DAWHOST_EXECUTOR"]  # type: ignore[assignment]
            config.engine.check("DAWHOST_EXECUTOR")
        disabled = os.environ.get("DAWHOST_DISABLE", "")
        config.disabled_plugins |= {name.strip() for name in disabled.split(",") if name.strip()}
        config._apply({k: v for k, v in overrides.items() if v is not None}, source="flags")
        return config

    def _apply(self, values: dict[str, Any], source: str) -> None:
        known = {f.name: f for f in fields(self)}
        for key, value in values.items():
            if key == "executor":  # --executor: a flag for the [engine] table's main setting
                self.engine.executor = value
                self.engine.check(source)
                continue
            if key not in known or key in ("sections", "engine"):
                raise ValueError(f"{source}: unknown setting {key!r}; known: {', '.join(known)}")
            if key in ("work_dir", "manifest"):
                value = Path(value).expanduser()
            elif key == "input_roots":
                value = [Path(p).expanduser() for p in value]
            elif key == "disabled_plugins":
                value = set(value)
            setattr(self, key, value)


@dataclass(frozen=True)
class PluginEntry:
    name: str
    module: str
    enabled: bool = True


@dataclass(frozen=True)
class ModelSettings:
    checkpoint: Path | None = None
    device: str = "cpu"
    defaults: dict[str, Any] = field(default_factory=dict)
    expose: tuple[str, ...] | None = None  # front-end names; None means all


@dataclass(frozen=True)
class Manifest:
    plugins: tuple[PluginEntry, ...]
    models: dict[str, ModelSettings]

    @classmethod
    def load(cls, path: Path = DEFAULT_MANIFEST) -> Manifest:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
        base = path.resolve().parent
        plugins = tuple(
            PluginEntry(name, entry["module"], entry.get("enabled", True))
            for name, entry in data.get("plugins", {}).items()
        )
        models = {}
        for model_id, entry in data.get("models", {}).items():
            checkpoint = entry.get("checkpoint")
            expose = entry.get("expose")
            models[model_id] = ModelSettings(
                checkpoint=(base / checkpoint) if checkpoint else None,
                device=entry.get("device", "cpu"),
                defaults=dict(entry.get("defaults", {})),
                expose=tuple(expose) if expose is not None else None,
            )
        return cls(plugins, models)
