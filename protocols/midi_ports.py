"""Opening dawhost's MIDI ports with python-rtmidi (output through mido), API selectable.

"default" tries the platform's own API first (ALSA on Linux, CoreMIDI on macOS) and then every
other API rtmidi was built with (JACK), so a Linux box without an ALSA sequencer still works.
When nothing works, `MidiUnavailable` says what was tried and what each attempt answered.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import mido
import rtmidi

log = logging.getLogger(__name__)

INPUT_NAME = "dawhost in"
OUTPUT_NAME = "dawhost out"

# What users type (`--midi-api jack`) -> mido's rtmidi API names.
API_ALIASES = {
    "alsa": "LINUX_ALSA",
    "jack": "UNIX_JACK",
    "coremidi": "MACOSX_CORE",
    "macos": "MACOSX_CORE",
    "winmm": "WINDOWS_MM",
    "windows": "WINDOWS_MM",
}


class MidiUnavailable(Exception):
    """No MIDI backend could open dawhost's ports; the message lists every attempt."""


@dataclass
class MidiPorts:
    input: Any  # a raw rtmidi.MidiIn, polled (see protocols.midi_input)
    output: Any  # a mido rtmidi Output
    api: str  # the rtmidi API that worked, e.g. "UNIX_JACK"
    input_name: str = INPUT_NAME
    output_name: str = OUTPUT_NAME

    def close(self) -> None:
        for port in (self.input, self.output):
            try:
                if hasattr(port, "close_port"):
                    port.close_port()
                    port.delete()
                else:
                    port.close()
            except Exception as exc:  # closing after the JACK server died
                log.debug("closing %s: %s", port, exc)


def api_candidates(requested: str) -> list[str | None]:
    """rtmidi API names to try, in order; None is rtmidi's own platform default."""
    compiled = mido.Backend("mido.backends.rtmidi").module.get_api_names()
    name = requested.strip()
    if name.lower() in ("", "default", "auto"):
        return [None] + [api for api in compiled if api != "RTMIDI_DUMMY"]
    api = API_ALIASES.get(name.lower(), name.upper())
    if api not in compiled:
        known = ", ".join(["default", *sorted(API_ALIASES)])
        raise MidiUnavailable(
            f"MIDI API {requested!r} is not available in this python-rtmidi build "
            f"(built with: {', '.join(compiled) or 'none'}); choose one of: {known}"
        )
    return [api]


def open_ports(
    api: str = "default",
    input_name: str | None = None,
    output_name: str | None = None,
) -> MidiPorts:
    """Open the input and output: virtual ports named `dawhost in`/`dawhost out`, or the
    existing ports whose names contain `input_name`/`output_name`."""
    # libjack starts a JACK server of its own when none runs; a MIDI front-end should not.
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    attempts: list[str] = []
    for candidate in api_candidates(api):
        backend = mido.Backend("mido.backends.rtmidi" + (f"/{candidate}" if candidate else ""))
        label = candidate or "platform default"
        try:
            inport, in_name = _open_input(candidate, input_name)
        except (rtmidi.RtMidiError, OSError, ValueError) as exc:
            attempts.append(f"{label}: {exc}")
            continue
        try:
            outport = _open(backend, "output", output_name, OUTPUT_NAME)
        except (rtmidi.RtMidiError, OSError, ValueError) as exc:
            inport.close_port()
            inport.delete()
            attempts.append(f"{label}: {exc}")
            continue
        api_name = rtmidi.get_api_name(inport.get_current_api())
        return MidiPorts(inport, outport, api_name, in_name, outport.name)
    raise MidiUnavailable(
        "no MIDI backend could open dawhost's ports; tried "
        + "; ".join(attempts)
        + ". On Linux without /dev/snd/seq, start a JACK server and use --midi-api jack; "
        "or run with --no-midi"
    )


def _open_input(api: str | None, wanted: str | None) -> tuple[Any, str]:
    """A raw rtmidi input with no callback (polled; see protocols.midi_input)."""
    api_id = getattr(rtmidi, f"API_{api}") if api else rtmidi.API_UNSPECIFIED
    name = INPUT_NAME if not wanted else "dawhost"
    port = rtmidi.MidiIn(api_id, name=name, queue_size_limit=16384)
    try:
        if not wanted:
            port.open_virtual_port(INPUT_NAME)
            opened = INPUT_NAME
        else:
            names = port.get_ports()
            index = _match(names, wanted, "input")
            port.open_port(index)
            opened = names[index]
    except BaseException:
        port.delete()
        raise
    # Sysex is useless here and a flood of it costs parsing time: drop it inside rtmidi.
    # Clock must pass (rtmidi ignores timing messages by default).
    port.ignore_types(sysex=True, timing=False, active_sense=True)
    return port, opened


def _match(names: list[str], wanted: str, kind: str) -> int:
    matches = [i for i, name in enumerate(names) if name == wanted] or [
        i for i, name in enumerate(names) if wanted.lower() in name.lower()
    ]
    if len(matches) != 1:
        found = ", ".join(names) or "none"
        problem = "no" if not matches else f"{len(matches)}"
        raise OSError(f"{problem} MIDI {kind} ports match {wanted!r}; available: {found}")
    return matches[0]


def _open(backend: mido.Backend, kind: str, wanted: str | None, virtual_name: str) -> Any:
    opener = backend.open_input if kind == "input" else backend.open_output
    if not wanted:
        return opener(virtual_name, client_name=virtual_name)
    names = backend.get_input_names() if kind == "input" else backend.get_output_names()
    return opener(names[_match(names, wanted, kind)])
