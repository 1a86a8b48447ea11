"""The `dawhost` command: serve, models, run one request, and plugin tasks (train/eval/bench)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from host.config import Manifest, ServerConfig
from host.core import Core
from host.errors import DawhostError
from host.memory import MemoryFrontend
from host.model import InputKind, Model
from host.options import option_specs
from host.outputs import AudioOutput, DataOutput, FileOutput, Note, NotesOutput, StemsOutput
from host.plugins import DuplicateModelError, PluginHost
from host.requests import Done, Error, OutputEvent
from host.serve import serve
from host.smf import MIDI_MEDIA_TYPE, write_smf


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
        rate = f"{info['sample_rate']} Hz" if info["sample_rate"] else "no audio"
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


def _run_parser(model: Model) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"dawhost run {model.model_id}", description=model.description or None
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output file (.mid/.json for notes, .wav/.flac for audio; a folder for stems)",
    )
    p.add_argument("--verb", choices=model.verbs(), default=model.verbs()[0])
    p.add_argument("--seed", type=int)
    option_names = {option.name for option in option_specs(model.Options)}
    if "tempo" not in option_names:  # a model's own tempo option wins (it is the same idea)
        p.add_argument("--tempo", dest="transport_tempo", type=float, help="transport tempo (BPM)")
    p.add_argument("--config", type=Path)
    p.add_argument("--work-dir", type=Path)
    for index, spec in enumerate(model.inputs):
        flags = [f"--{spec.name.replace('_', '-')}"]
        if index == 0 and all(s.name != "input" for s in model.inputs):
            flags.append("--input")  # `dawhost run <model> --input FILE` works for every model
        hint = (
            "MIDI file or numbers 'pitch vel start dur ...'"
            if spec.kind is InputKind.NOTES
            else spec.kind.value
        )
        p.add_argument(
            *flags,
            dest=f"input_{spec.name}",
            help=f"{spec.description} ({hint})",
        )
    for option in option_specs(model.Options):
        kind: Callable[[str], Any] = _OPTION_PARSERS[option.type]
        p.add_argument(
            f"--{option.name.replace('_', '-')}",
            dest=f"option_{option.name}",
            type=kind,
            choices=option.choices,
            help=f"{option.description} (default {option.default!r})",
        )
    return p


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


_OPTION_PARSERS: dict[str, Callable[[str], Any]] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": _parse_bool,
}


def _cli_input(kind: InputKind, text: str) -> tuple[Any, Path | None]:
    """An input value from the shell, and the folder to allow reading it from."""
    if kind is InputKind.TEXT:
        return text, None
    if kind is InputKind.NOTES and not Path(text).exists():
        try:
            return [float(v) for v in text.replace(",", " ").split()], None
        except ValueError:
            raise SystemExit(f"error: {text!r} is neither a file nor a list of numbers") from None
    path = Path(text).expanduser().resolve()
    return str(path), path.parent


def cmd_run(argv: Sequence[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(
            "usage: dawhost run <model> --<input-or-option> VALUE ... --out PATH", file=sys.stderr
        )
        return 2
    model_id, rest = argv[0], list(argv[1:])
    base = _config(argparse.Namespace())
    models = _plugin_host(base).models()
    if model_id not in models:
        print(
            f"error: no model {model_id!r}; available: {', '.join(sorted(models))}", file=sys.stderr
        )
        return 2
    model = models[model_id]
    args = _run_parser(model).parse_args(rest)
    config = ServerConfig.load(args.config, work_dir=args.work_dir)
    inputs, roots = {}, []
    for spec in model.inputs:
        text = getattr(args, f"input_{spec.name}")
        if text is not None:
            inputs[spec.name], root = _cli_input(spec.kind, text)
            if root:
                roots.append(root)
    options = {
        o.name: getattr(args, f"option_{o.name}")
        for o in option_specs(model.Options)
        if getattr(args, f"option_{o.name}") is not None
    }
    config.input_roots = [*config.input_roots, *roots]  # the shell user may read their files
    core = Core(config, {model_id: model})
    tempo = getattr(args, "transport_tempo", None) or getattr(args, "option_tempo", None)
    if tempo:  # also the transport's, so bars and beats are counted at that tempo
        core.transport.set_tempo(tempo)
    return asyncio.run(_run_once(core, model_id, args, inputs, options))


async def _run_once(
    core: Core,
    model_id: str,
    args: argparse.Namespace,
    inputs: dict[str, Any],
    options: dict[str, Any],
) -> int:
    frontend = MemoryFrontend(core, client="cli")

    def show_progress(event: Any) -> None:
        if getattr(event, "type", "") == "progress":
            print(
                f"\r{event.fraction * 100:5.1f}% {event.message:40.40}",
                end="",
                file=sys.stderr,
                flush=True,
            )

    _, queue = frontend.submit(
        model_id, args.verb, inputs=inputs, options=options, seed=args.seed, on_event=show_progress
    )
    outputs = []
    while True:
        event = await queue.get()
        if isinstance(event, OutputEvent):
            outputs.append(event.output)
        elif isinstance(event, Error):
            print(f"\nerror ({event.code.value}): {event.message}", file=sys.stderr)
            await core.shutdown()
            return 1
        elif isinstance(event, Done):
            print(file=sys.stderr)
            written = _write_outputs(outputs, args.out, core.transport.tempo)
            print(
                json.dumps(
                    {"outputs": [str(p) for p in written], "provenance": event.provenance}, indent=2
                )
            )
            await core.shutdown()
            return 0


def _write_outputs(outputs: list[Any], out: Path, tempo: float) -> list[Path]:
    written: list[Path] = []
    by_name: dict[str, list[Note]] = {}  # streamed batches of one name make one file
    # A model's own MIDI file of a notes stream ("midi-2" for "notes-2") keeps the primer's
    # tempo, signature and timeline: it is what `--out x.mid` gets.
    model_files: dict[str, Path] = {}
    for output in outputs:
        if isinstance(output, NotesOutput):
            by_name.setdefault(output.name, []).extend(output.notes)
        elif isinstance(output, FileOutput) and output.media_type == MIDI_MEDIA_TYPE:
            model_files[output.name.replace("midi", "notes", 1)] = output.path
    for name, notes in by_name.items():
        # Several note outputs (variations) each get their own file: y-notes-2.mid ...
        target = out if len(by_name) == 1 else out.with_name(f"{out.stem}-{name}{out.suffix}")
        if target.suffix.lower() == ".json":
            target.write_text(json.dumps([n.as_list() for n in notes]))
        elif name in model_files:
            shutil.copyfile(model_files[name], target)
        else:
            write_smf(target, notes, tempo)
        written.append(target)
    for output in outputs:
        if isinstance(output, AudioOutput) and output.path:
            written.append(_copy_audio(output.path, out))
        elif isinstance(output, StemsOutput):
            out.mkdir(parents=True, exist_ok=True)
            for name, stem in output.stems.items():
                if stem.path:
                    written.append(_copy_audio(stem.path, out / f"{name}{stem.path.suffix}"))
        elif isinstance(output, FileOutput):
            if output.path in model_files.values():
                continue  # written above, in place of the notes
            target = out if not out.is_dir() else out / output.path.name
            shutil.copyfile(output.path, target)
            written.append(target)
        elif isinstance(output, DataOutput):
            target = out.with_name(f"{out.stem}.{output.name}.json")
            target.write_text(json.dumps(output.data, indent=2))
            written.append(target)
    return written


def _copy_audio(source: Path, target: Path) -> Path:
    if target.suffix.lower() == source.suffix.lower():
        shutil.copyfile(source, target)
    else:
        import soundfile

        data, rate = soundfile.read(source, always_2d=True)
        soundfile.write(target, data, rate)
    return target


def cmd_task(kind: str, argv: Sequence[str]) -> int:
    tasks = [t for t in _plugin_host(_config(argparse.Namespace())).tasks() if t.kind == kind]
    if not argv or argv[0].startswith("-"):
        names = ", ".join(t.name for t in tasks) or "none"
        print(f"usage: dawhost {kind} <name> [args...]; available: {names}", file=sys.stderr)
        return 2
    for task in tasks:
        if task.name == argv[0]:
            return task.main(list(argv[1:]))
    names = ", ".join(t.name for t in tasks) or "none"
    print(f"error: no {kind} task {argv[0]!r}; available: {names}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if argv and argv[0] == "run":
        return _guard(lambda: cmd_run(argv[1:]))
    if argv and argv[0] in ("train", "eval", "bench"):
        return _guard(lambda: cmd_task(argv[0], argv[1:]))
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
