"""The patcher library: boxes, patch cords and a column layout, written as Max 8/9 JSON.

Each box gets the inlets and outlet types Max gives it (`NEWOBJ_PORTS`, `UI_PORTS`), so a patch
written here opens in Max exactly as a patch saved by Max does.
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent  # max_patches/
PACKAGE = HERE / "dawhost"  # a Max package: patchers/, devices/ (Max for Live), package-info.json
SERVER_HOST = "127.0.0.1"
SEND_PORT = 9000  # dawhost's default OSC port
REPLY_PORT = 9001  # dawhost's default reply port

# (inlets, outlet types) of the objects these patches use, as Max 8 creates them.
NEWOBJ_PORTS: dict[str, tuple[int, list[str]]] = {
    "udpsend": (1, []),
    "udpreceive": (1, [""]),
    "loadbang": (1, ["bang"]),
    "loadmess": (1, [""]),
    "prepend": (1, [""]),
    "i": (2, ["int"]),
    "+": (2, ["int"]),
    "/": (2, ["float"]),
    "*": (2, ["float"]),
    "metro": (2, ["bang"]),
    "transport": (2, ["int", "int", "float", "float", "float", "", "int", "float", ""]),
    "change": (1, ["", "int", "int"]),
    "buffer~": (1, ["float", "bang"]),
    "play~": (1, ["signal", "bang"]),
    "*~": (2, ["signal"]),
    "coll": (1, ["", "", "", "bang"]),
    "makenote": (3, ["float", "float"]),
    "noteout": (3, []),
    "ctlout": (3, []),
    "notein": (1, ["int", "int", "int"]),
    "midiin": (1, ["int"]),
    "midiout": (1, []),
    "plugin~": (1, ["signal", "signal"]),
    "plugout~": (2, []),
    "f": (2, ["float"]),
    "-": (2, ["float"]),
    "==": (2, ["int"]),
    "print": (1, []),
    "conformpath": (1, ["", ""]),
    "adc~": (1, ["signal", "signal"]),
    "record~": (3, ["signal"]),
    "dict": (2, ["dictionary", "", "", ""]),
}
UI_PORTS: dict[str, tuple[int, list[str]]] = {
    "message": (2, [""]),
    "comment": (1, []),
    "button": (1, ["bang"]),
    "toggle": (1, ["int"]),
    "number": (1, ["", "bang"]),
    "flonum": (1, ["", "bang"]),
    "umenu": (1, ["int", "", ""]),
    "dropfile": (1, ["", ""]),
    "slider": (1, [""]),
    "ezdac~": (2, []),
    "panel": (1, []),
}
TRIGGER_TYPES = {"b": "bang", "i": "int", "f": "float", "l": "", "s": "", "a": ""}
UNPACK_TYPES = {"s": "", "i": "int", "f": "float", "l": ""}


def newobj_ports(text: str) -> tuple[int, list[str]]:
    """Inlets and outlet types of an object box, from its text (as Max computes them)."""
    name, *args = text.split()
    if name in ("t", "trigger"):
        return 1, [TRIGGER_TYPES[a] for a in args]
    if name == "unpack":
        return 1, [UNPACK_TYPES.get(a, "int" if "." not in a else "float") for a in args]
    if name == "pack":
        return len(args), [""]
    if name == "route":
        return 2, [""] * (len(args) + 1)
    if name in ("sel", "select"):
        return (2 if len(args) == 1 else 1), ["bang"] * len(args) + [""]
    if name == "sprintf":
        specs = len(re.findall(r"%[-+ #0-9.]*[a-z]", text))
        return max(1, specs), [""]
    if name == "zl":
        return 2, ["", ""]
    if name == "dict.unpack":  # an outlet per key, and one for what no key matched
        return 1, [""] * (len(args) + 1)
    if name == "gate":
        return 2, [""] * int(args[0])
    return NEWOBJ_PORTS[name]


CHAR_WIDTH = 7.0  # approximate width of one character of 12 pt Arial, in pixels
LINE_HEIGHT = 15.0  # each wrapped line adds this much to a box


@dataclass
class Box:
    id: str
    maxclass: str
    text: str
    rect: list[float]  # x, y, width, height; x and y are set when a Flow places the box
    inlets: int
    outlets: list[str]
    extra: dict[str, Any] = field(default_factory=dict)
    linecount: int = 1
    placed: bool = False

    def json(self) -> dict[str, Any]:
        box: dict[str, Any] = {
            "id": self.id,
            "maxclass": self.maxclass,
            "numinlets": self.inlets,
            "numoutlets": len(self.outlets),
            "patching_rect": self.rect,
        }
        if self.outlets:
            box["outlettype"] = self.outlets
        if self.text or self.maxclass in ("newobj", "message", "comment"):
            box["text"] = self.text
        if self.linecount > 1:
            box["linecount"] = self.linecount
        box.update(self.extra)
        return {"box": box}


def wrapped_lines(text: str, width: float, padding: float) -> int:
    per_line = max(1, int((width - padding) / CHAR_WIDTH))
    return sum(max(1, math.ceil(len(line) / per_line)) for line in text.split("\n"))


class Patcher:
    """Boxes and patch cords; boxes are created unplaced and positioned by a `Flow`."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.boxes: list[Box] = []
        self.lines: list[tuple[str, int, str, int]] = []

    def _add(
        self,
        maxclass: str,
        text: str,
        width: float,
        height: float,
        ports: tuple[int, list[str]],
        lines: int = 1,
        **extra: Any,
    ) -> Box:
        box = Box(
            f"obj-{len(self.boxes) + 1}",
            maxclass,
            text,
            [0.0, 0.0, width, height],
            ports[0],
            list(ports[1]),
            extra,
            lines,
        )
        self.boxes.append(box)
        return box

    def _text_box(
        self,
        maxclass: str,
        text: str,
        width: float | None,
        max_width: float,
        ports: tuple[int, list[str]],
    ) -> Box:
        w = width or max(40.0, min(max_width, CHAR_WIDTH * len(text) + 18))
        lines = wrapped_lines(text, w, 18)
        return self._add(maxclass, text, w, 22.0 + LINE_HEIGHT * (lines - 1), ports, lines)

    def obj(self, text: str, width: float | None = None, max_width: float = 460) -> Box:
        return self._text_box("newobj", text, width, max_width, newobj_ports(text))

    def msg(self, text: str, width: float | None = None, max_width: float = 460) -> Box:
        return self._text_box("message", text, width, max_width, UI_PORTS["message"])

    def comment(self, text: str, width: float = 460, bold: bool = False) -> Box:
        lines = wrapped_lines(text, width, 10)
        extra = {"fontface": 1, "fontsize": 16.0} if bold else {}
        height = 24.0 if bold else 6.0 + 14.0 * lines
        return self._add("comment", text, width, height, UI_PORTS["comment"], lines, **extra)

    def ui(self, maxclass: str, width: float, height: float, **extra: Any) -> Box:
        if maxclass in ("number", "flonum", "umenu", "slider", "toggle"):
            extra.setdefault("parameter_enable", 0)
        return self._add(maxclass, "", width, height, UI_PORTS[maxclass], **extra)

    def present(self, box: Box, x: float, y: float, width: float | None = None) -> Box:
        """Show `box` in presentation mode (a Max for Live device's strip) at x, y."""
        box.extra["presentation"] = 1
        box.extra["presentation_rect"] = [x, y, width or box.rect[2], box.rect[3]]
        return box

    def connect(self, source: Box, outlet: int, destination: Box, inlet: int = 0) -> None:
        if not 0 <= outlet < len(source.outlets):
            raise ValueError(f"{source.text or source.maxclass} has no outlet {outlet}")
        if not 0 <= inlet < destination.inlets:
            raise ValueError(f"{destination.text or destination.maxclass} has no inlet {inlet}")
        self.lines.append((source.id, outlet, destination.id, inlet))

    def json(self) -> dict[str, Any]:
        unplaced = [b.text or b.maxclass for b in self.boxes if not b.placed]
        if unplaced:
            raise ValueError(f"boxes never placed: {unplaced}")
        width = max(b.rect[0] + b.rect[2] for b in self.boxes) + 40
        height = max(b.rect[1] + b.rect[3] for b in self.boxes) + 40
        return {
            "patcher": {
                "fileversion": 1,
                "appversion": {
                    "major": 8,
                    "minor": 6,
                    "revision": 0,
                    "architecture": "x64",
                    "modernui": 1,
                },
                "classnamespace": "box",
                "rect": [60.0, 60.0, width, min(height, 1000.0)],
                "bglocked": 0,
                "openinpresentation": 0,
                "default_fontsize": 12.0,
                "default_fontface": 0,
                "default_fontname": "Arial",
                "gridonopen": 1,
                "gridsize": [15.0, 15.0],
                "gridsnaponopen": 1,
                "objectsnaponopen": 1,
                "statusbarvisible": 2,
                "toolbarvisible": 1,
                "lefttoolbarpinned": 0,
                "toptoolbarpinned": 0,
                "righttoolbarpinned": 0,
                "bottomtoolbarpinned": 0,
                "toolbars_unpinned_last_save": 0,
                "tallnewobj": 0,
                "boxanimatetime": 200,
                "enablehscroll": 1,
                "enablevscroll": 1,
                "devicewidth": 0.0,
                "description": self.title,
                "digest": "",
                "tags": "dawhost",
                "style": "",
                "subpatcher_template": "",
                "assistshowspatchername": 0,
                "boxes": [box.json() for box in self.boxes],
                "lines": [
                    {"patchline": {"source": [s, o], "destination": [d, i]}}
                    for s, o, d, i in self.lines
                ],
                "dependency_cache": [],
                "autosave": 0,
            }
        }


class Flow:
    """Lays boxes out top to bottom in a column; `row` puts several side by side."""

    def __init__(self, x: float, y: float, width: float) -> None:
        self.x, self.y, self.width = x, y, width

    def row(self, *boxes: Box, gap: float = 12.0) -> None:
        x = self.x
        for box in boxes:
            box.rect[0], box.rect[1], box.placed = x, self.y, True
            x += box.rect[2] + gap
        self.y += max(box.rect[3] for box in boxes) + 8.0

    def space(self, height: float = 14.0) -> None:
        self.y += height


def write(p: Patcher, name: str) -> Path:
    path = PACKAGE / "patchers" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(p.json(), indent=1) + "\n")
    return path


# Max for Live device types: the 4 bytes after the container's version.
MIDI_EFFECT, INSTRUMENT, AUDIO_EFFECT = b"mmmm", b"iiii", b"aaaa"


def _chunk(tag: bytes, data: bytes) -> bytes:
    return tag + struct.pack("<I", len(data)) + data


def amxd_bytes(patcher: dict[str, Any], kind: bytes) -> bytes:
    """A Max for Live device file: three little-endian chunks, `ampf` (the container's
    version 4 and the device type), `meta` (one 32-bit word, 0 for an unfrozen device) and
    `ptch` (the patcher's JSON text, NUL-terminated). Nothing else: an unfrozen device
    carries no embedded files."""
    if kind not in (MIDI_EFFECT, INSTRUMENT, AUDIO_EFFECT):
        raise ValueError(f"unknown device type {kind!r}")
    text = (json.dumps(patcher, indent=1) + "\n").encode("utf-8") + b"\x00"
    head = b"ampf" + struct.pack("<I", 4) + kind
    return head + _chunk(b"meta", struct.pack("<I", 0)) + _chunk(b"ptch", text)


def read_amxd(data: bytes) -> tuple[bytes, dict[str, Any]]:
    """(device type, patcher JSON) of a device written by `amxd_bytes`."""
    if data[:4] != b"ampf" or struct.unpack_from("<I", data, 4)[0] != 4:
        raise ValueError("not a Max for Live device (no ampf version 4 header)")
    kind, offset = data[8:12], 12
    chunks: dict[bytes, bytes] = {}
    while offset < len(data):
        tag, size = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        chunks[tag] = data[offset + 8 : offset + 8 + size]
        offset += 8 + size
    text = chunks[b"ptch"]
    if not text.endswith(b"\x00"):
        raise ValueError("the ptch chunk is not NUL-terminated")
    return kind, json.loads(text[:-1].decode("utf-8"))


def write_device(p: Patcher, name: str, kind: bytes, width: float) -> Path:
    """A .amxd in the package's devices/ folder, opening in presentation (the device strip
    shows the boxes given a `presentation_rect`), `width` pixels wide."""
    patcher = p.json()
    patcher["patcher"].update(openinpresentation=1, devicewidth=float(width))
    path = PACKAGE / "devices" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(amxd_bytes(patcher, kind))
    return path
