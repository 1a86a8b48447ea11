"""The `dawhost` command: serve, models, run one request, and plugin tasks (train/eval/bench)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from host.cli_run import cmd_run
from host.cli_tasks import cmd_task
from host.config import Manifest, ServerConfig
from host.errors import DawhostError
from host.plugins import DuplicateModelError, PluginHost
from host.serve import serve


def _serve_parser(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve every model over OSC, WebSocket and MIDI")
    p.add_argument("--config", type=Path, help="TOML config file ([server] table)")
    p.add_argument("--bind", help="address to bind (default 127.0.0.1)")
    p.add_argument("--osc-port", type=int)
    p.add_argument("--reply-port", type=int, help="default OSC reply port (9001)")
    p.add_argument("--oscquery-port", type=int)
    p.add_argument("--ws-port", type=int)
    p.add_argument("--midi-api", help="rtmidi API: default, jack, alsa, coremidi")
    p.add_argument("--no-midi", action="store_true", help="do not open MIDI ports")
    p.add_argument("--work-dir", type=Path, help="folder for inputs and outputs")
    p.add_argument("--link", action="store_true", default=None, help="join Ableton Link")
    p.add_argument("--mdns", action="store_true", default=None, help="advertise OSCQuery")
    p.add_argument("--preload", action="store_true", default=None, help="load models at start")
    p.add_argument(
        "--executor",
        choices=["process", "ray", "thread"],
        help="where model code runs: worker processes (default), Ray actors, or threads",
    )


def _config(args: argparse.Namespace) -> ServerConfig:
    flags = {
        "bind": getattr(args, "bind", None),
        "osc_port": getattr(args, "osc_port", None),
        "reply_port": getattr(args, "reply_port", None),
        "oscquery_port": getattr(args, "oscquery_port", None),
        "ws_port": getattr(args, "ws_port", None),
        "midi_api": getattr(args, "midi_api", None),
        "midi": False if getattr(args, "no_midi", False) else None,
        "work_dir": getattr(args, "work_dir", None),
        "link": getattr(args, "link", None),
        "mdns": getattr(args, "mdns", None),
        "preload": getattr(args, "preload", None),
        "executor": getattr(args, "executor", None),
    }
    return ServerConfig.load(getattr(args, "config", None), **flags)


def _plugin_host(config: ServerConfig) -> PluginHost:
    return PluginHost(Manifest.load(config.manifest), disabled=config.disabled_plugins)


def cmd_models(args: argparse.Namespace) -> int:
    plugin_host = _plugin_host(_config(args))
    models = plugin_host.models()
    failures = [str(f) for f in plugin_host.failures]
    if args.json:
        print(
            json.dumps(
                {"models": [m.describe() for m in models.values()], "plugin_failures": failures},
                indent=2,
            )
        )
        return 0
    for model in models.values():
        info = model.describe()
        rate = _rate_label(info)
        mode = "causal/streaming" if info["causal"] else "offline"
        state = "loaded" if info["loaded"] else "not loaded"
        print(f"{info['id']}  [{', '.join(info['capabilities'])}]  {rate}, {mode}, {state}")
        if info["description"]:
            print(f"    {info['description']}")
        for spec in info["inputs"]:
            need = "required" if spec["required"] else "optional"
            print(f"    input  {spec['name']} ({spec['kind']}, {need}): {spec['description']}")
        for spec in info["options"]:
            bounds = (
                f" choices {spec['choices']}"
                if spec["choices"]
                else f" {spec['minimum']}..{spec['maximum']}"
                if spec["minimum"] is not None
                else ""
            )
            print(
                f"    option {spec['name']} ({spec['type']}{bounds}, default "
                f"{spec['default']!r}): {spec['description']}"
            )
    for failure in failures:
        print(f"warning: {failure}", file=sys.stderr)
    return 0


def _rate_label(info: dict[str, Any]) -> str:
    if info["sample_rate"]:
        return f"{info['sample_rate']} Hz"
    if "separate_stems" in info["capabilities"]:
        return "audio at the input's rate"
    return "notes, no audio"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args_none = argparse.Namespace()
    # A server logs what it does; a one-shot command shows a progress bar and problems only.
    quiet = bool(argv) and argv[0] in ("run", "train", "eval", "bench")
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if argv and argv[0] == "run":
        return _guard(lambda: cmd_run(argv[1:], _plugin_host(_config(args_none)).models()))
    if argv and argv[0] in ("train", "eval", "bench"):
        return _guard(lambda: cmd_task(argv[0], argv[1:], _plugin_host(_config(args_none)).tasks()))
    parser = argparse.ArgumentParser(prog="dawhost", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    models = sub.add_parser("models", help="list models, their options and state")
    models.add_argument("--json", action="store_true")
    models.add_argument("--config", type=Path)
    for kind in ("run", "train", "eval", "bench"):
        sub.add_parser(kind, help=f"{kind} (see `dawhost {kind}`)")
    args = parser.parse_args(argv)
    if args.command == "models":
        return _guard(lambda: cmd_models(args))
    return _guard(lambda: asyncio.run(serve(_config(args))))


def _guard(action: Any) -> int:
    try:
        return int(action())
    except (DuplicateModelError, ValueError, OSError, DawhostError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
