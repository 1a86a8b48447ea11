"""`dawhost run <model> ...`: one request from the shell. Flags come from the model's inputs and
Options schema; `--out` decides the file format, and a format that cannot hold the model's
result (notes into a .wav, four stems into one file) is refused before the model runs."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from host.config import ServerConfig
from host.core import Core
from host.memory import MemoryFrontend
from host.model import Capability, InputKind, Model
from host.options import OptionSpec, option_specs
from host.outputs import AudioOutput, DataOutput, FileOutput, Note, NotesOutput, StemsOutput
from host.requests import Done, Error, OutputEvent, Progress
from host.smf import MIDI_MEDIA_TYPE, write_smf
from host.transport import MAX_TEMPO, MIN_TEMPO

NOTE_SUFFIXES = (".mid", ".midi", ".json")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif")  # what soundfile writes
USAGE = "usage: dawhost run <model> --<input-or-option> VALUE ... --out PATH"


class CliError(Exception):
    """A problem with what the user typed: printed as `error: ...`, exit status 2."""


def models_listing(models: dict[str, Model]) -> str:
    """One line per model: what `dawhost run` can be asked for."""
    width = max((len(m) for m in models), default=0)
    lines = ["models:"]
    for model_id, model in sorted(models.items()):
        inputs = " ".join(f"--{s.name.replace('_', '-')}" for s in model.inputs)
        lines.append(f"  {model_id:<{width}}  {'/'.join(model.verbs()):<14} {inputs}")
    lines.append(
        "`dawhost run <model> --help` lists a model's flags; `dawhost models` the details."
    )
    return "\n".join(lines)


def produces(model: Model, verb: str) -> str:
    """ "notes", "audio", "stems" or "data": what a verb of this model gives back."""
    capability = Capability.from_verb(verb)
    if capability in (Capability.CONTINUE_MIDI, Capability.TRANSCRIBE):
        return "notes"
    if capability is Capability.ANALYZE:
        return "data"
    if capability is Capability.SEPARATE_STEMS:
        return "stems"
    return "audio"


def check_out(out: Path, kind: str, model_id: str) -> None:
    """Refuse an --out that cannot hold this kind of result, naming what would work."""
    suffix = out.suffix.lower()
    if kind == "notes" and suffix not in NOTE_SUFFIXES:
        raise CliError(
            f"--out {out}: {model_id} writes notes; give a .mid or .json file "
            f"(to hear them, render the .mid with `dawhost run melnet --notes FILE.mid --out "
            f"{out.with_suffix('.wav').name}`)"
        )
    if kind == "audio" and suffix not in AUDIO_SUFFIXES:
        raise CliError(
            f"--out {out}: {model_id} writes audio; give a file ending in "
            f"{', '.join(AUDIO_SUFFIXES)}"
        )
    if kind == "data" and suffix != ".json":
        raise CliError(f"--out {out}: {model_id} writes its findings as JSON; give a .json file")
    if kind == "stems" and (suffix or (out.exists() and not out.is_dir())):
        raise CliError(
            f"--out {out}: {model_id} writes one file per stem; give a folder, e.g. --out stems/"
        )


_OPTION_PARSERS: dict[str, Callable[[str], Any]] = {"int": int, "float": float, "str": str}


def _or_none(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse_or_none(text: str) -> Any:
        return None if text.lower() == "none" else parse(text)

    parse_or_none.__name__ = parse.__name__  # argparse names the type in its errors
    return parse_or_none


def _add_option(parser: argparse.ArgumentParser, option: OptionSpec) -> None:
    flag = f"--{option.name.replace('_', '-')}"
    help_text = option.description or option.name
    if option.type == "bool":
        # `--wiener` / `--no-wiener`, like any other command-line tool
        parser.add_argument(
            flag,
            dest=f"option_{option.name}",
            action=argparse.BooleanOptionalAction,
            default=None,
            help=f"{help_text} (default: {'on' if option.default else 'off'})",
        )
        return
    bounds = ""
    if option.minimum is not None and option.maximum is not None and not option.choices:
        bounds = f", {option.minimum:g}..{option.maximum:g}{' or none' if option.optional else ''}"
    parse = _OPTION_PARSERS.get(option.type, str)
    if option.optional:  # `--tempo none`: unset, as leaving the flag out is
        parse = _or_none(parse)
    parser.add_argument(
        flag,
        dest=f"option_{option.name}",
        type=parse,
        choices=option.choices,
        metavar=None if option.choices else option.type.upper(),
        help=f"{help_text} (default {'none' if option.default is None else repr(option.default)}"
        f"{bounds})",
    )


def run_parser(model: Model) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"dawhost run {model.model_id}", description=model.description or None
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="where the result goes: .mid/.json for notes, .wav/.flac for audio, a folder for "
        "stems",
    )
    p.add_argument("--verb", choices=model.verbs(), default=model.verbs()[0])
    p.add_argument("--seed", type=int, help="seed, to get the same result again")
    option_names = {option.name for option in option_specs(model.Options)}
    if "tempo" not in option_names:  # a model's own tempo option wins (it is the same idea)
        p.add_argument("--tempo", dest="transport_tempo", type=float, help="transport tempo (BPM)")
    p.add_argument("--config", type=Path, help="TOML config file")
    p.add_argument("--work-dir", type=Path, help="folder for the request's files")
    for index, spec in enumerate(model.inputs):
        flags = [f"--{spec.name.replace('_', '-')}"]
        if index == 0 and all(s.name != "input" for s in model.inputs):
            flags.append("--input")  # `dawhost run <model> --input FILE` works for every model
        hint = {
            InputKind.NOTES: "a MIDI file, or numbers 'pitch vel start dur ...'",
            InputKind.AUDIO_FILE: "an audio file",
            InputKind.MIDI_FILE: "a MIDI file",
            InputKind.TEXT: "text",
        }[spec.kind]
        need = "" if spec.required else ", optional"
        p.add_argument(*flags, dest=f"input_{spec.name}", help=f"{spec.description} ({hint}{need})")
    for option in option_specs(model.Options):
        _add_option(p, option)
    return p


def _numbers(text: str) -> list[float] | None:
    try:
        return [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        return None


def cli_input(name: str, kind: InputKind, text: str) -> tuple[Any, Path | None]:
    """An input value from the shell, and the folder to allow reading it from."""
    if kind is InputKind.TEXT:
        return text, None
    path = Path(text).expanduser()
    if kind is InputKind.NOTES and not path.exists():
        numbers = _numbers(text)
        if numbers is not None and numbers:
            return numbers, None
        if path.suffix or "/" in text:
            raise CliError(f"not found: {text} (--{name.replace('_', '-')})")
        raise CliError(
            f"--{name.replace('_', '-')} {text!r}: not a file here, and not notes "
            "(write 'pitch velocity start_beat duration_beat ...', e.g. '60 100 0 1 64 90 1 1')"
        )
    if not path.exists():
        raise CliError(f"not found: {text} (--{name.replace('_', '-')})")
    if path.is_dir():
        raise CliError(f"--{name.replace('_', '-')} {text}: is a folder, expected a file")
    resolved = path.resolve()
    return str(resolved), resolved.parent


def cmd_run(argv: Sequence[str], models: dict[str, Model]) -> int:
    if not argv or argv[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        print(models_listing(models), file=sys.stderr)
        return 2
    model_id, rest = argv[0], list(argv[1:])
    if model_id not in models:
        print(f"error: no model {model_id!r}", file=sys.stderr)
        print(models_listing(models), file=sys.stderr)
        return 2
    model = models[model_id]
    args = run_parser(model).parse_args(rest)
    try:
        check_out(args.out, produces(model, args.verb), model_id)
        inputs, roots = {}, []
        for spec in model.inputs:
            text = getattr(args, f"input_{spec.name}")
            if text is not None:
                inputs[spec.name], root = cli_input(spec.name, spec.kind, text)
                if root:
                    roots.append(root)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = {
        o.name: getattr(args, f"option_{o.name}")
        for o in option_specs(model.Options)
        if getattr(args, f"option_{o.name}") is not None
    }
    config = ServerConfig.load(args.config, work_dir=args.work_dir)
    config.input_roots = [*config.input_roots, *roots]  # the shell user may read their files
    core = Core(config, {model_id: model})
    transport_tempo = getattr(args, "transport_tempo", None)
    if transport_tempo:
        core.transport.set_tempo(transport_tempo)
    elif options.get("tempo") and MIN_TEMPO <= options["tempo"] <= MAX_TEMPO:
        # The model's tempo is the transport's too, so bars and beats are counted at it; one
        # outside the schema is left for the core to refuse with the schema's range.
        core.transport.set_tempo(options["tempo"])
    return asyncio.run(_run_once(core, model_id, args, inputs, options))


class _ProgressBar:
    """A tqdm bar on stderr fed by the job's progress events."""

    def __init__(self, label: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=1000,
            desc=label,
            file=sys.stderr,
            bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}{postfix}",
            leave=True,
        )

    def __call__(self, event: Any) -> None:
        if isinstance(event, Progress):
            self.bar.n = round(max(0.0, min(1.0, event.fraction)) * 1000)
            self.bar.set_postfix_str(event.message[:40], refresh=False)
            self.bar.refresh()

    def close(self, finished: bool) -> None:
        if finished:
            self.bar.n = 1000
            self.bar.refresh()
        self.bar.close()


async def _run_once(
    core: Core,
    model_id: str,
    args: argparse.Namespace,
    inputs: dict[str, Any],
    options: dict[str, Any],
) -> int:
    frontend = MemoryFrontend(core, client="cli")
    bar = _ProgressBar(f"{model_id} {args.verb}")
    _, queue = frontend.submit(
        model_id, args.verb, inputs=inputs, options=options, seed=args.seed, on_event=bar
    )
    outputs = []
    try:
        while True:
            event = await queue.get()
            if isinstance(event, OutputEvent):
                outputs.append(event.output)
            elif isinstance(event, Error):
                bar.close(False)
                field = f" (--{event.field.replace('_', '-')})" if event.field else ""
                print(f"error ({event.code.value}): {event.message}{field}", file=sys.stderr)
                return 1
            elif isinstance(event, Done):
                bar.close(True)
                try:
                    written = write_outputs(outputs, args.out, core.transport.tempo)
                except CliError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
                report = {"outputs": [str(p) for p in written], "provenance": event.provenance}
                print(json.dumps(report, indent=2))
                return 0
    finally:
        await core.shutdown()


def write_outputs(outputs: list[Any], out: Path, tempo: float) -> list[Path]:
    """Write a request's outputs at `out`, in the format its suffix names."""
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
    if by_name and out.suffix.lower() not in NOTE_SUFFIXES:
        raise CliError(f"--out {out}: the result is notes; give a .mid or .json file")
    if not out.suffix:
        out.mkdir(parents=True, exist_ok=True)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
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
    # A result that is only data (an analysis): its first data output is the --out file.
    data_is_main = (
        out.suffix.lower() == ".json"
        and not by_name
        and not any(isinstance(o, (AudioOutput, StemsOutput, FileOutput)) for o in outputs)
    )
    for output in outputs:
        if isinstance(output, DataOutput) and data_is_main:
            out.write_text(json.dumps(output.data, indent=2))
            written.append(out)
            data_is_main = False
        elif isinstance(output, AudioOutput) and output.path:
            if out.suffix.lower() not in AUDIO_SUFFIXES:
                raise CliError(f"--out {out}: the result is audio; give a .wav or .flac file")
            written.append(_copy_audio(output.path, out))
        elif isinstance(output, StemsOutput):
            if out.suffix:
                raise CliError(f"--out {out}: the result is stems; give a folder")
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
            # Beside the main result: line.wav -> line.syllables.json
            target = (
                out / f"{output.name}.json"
                if out.is_dir()
                else out.with_name(f"{out.stem}.{output.name}.json")
            )
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
