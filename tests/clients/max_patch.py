"""Reads Max patches (.maxpat JSON) the way Max does, far enough to test them without Max.

`MAX_OBJECTS` is an independent table of how many inlets and outlets Max 8 gives each object
the dawhost patches use; `sent_messages` works out which OSC messages reach a [udpsend] and the
OSC type of every argument (Max sends ints as `i`, floats as `f`, symbols as `s`), following
`$1`-style arguments back to the boxes that feed them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE_FOLDER = Path(__file__).resolve().parents[2] / "max_patches" / "dawhost"  # a Max package
PATCH_FOLDER = PACKAGE_FOLDER / "patchers"
DEVICE_FOLDER = PACKAGE_FOLDER / "devices"
DEVICE_TYPES = {b"mmmm": "midi effect", b"iiii": "instrument", b"aaaa": "audio effect"}

# Inlets and outlets per object in Max 8/9 (name -> (inlets, outlets)); None means "depends on
# the arguments" and is worked out in `expected_ports`.
MAX_OBJECTS: dict[str, tuple[int, int] | None] = {
    "udpsend": (1, 0),
    "udpreceive": (1, 1),
    "loadbang": (1, 1),
    "loadmess": (1, 1),
    "prepend": (1, 1),
    "i": (2, 1),
    "+": (2, 1),
    "/": (2, 1),
    "*": (2, 1),
    "metro": (2, 1),
    "transport": (2, 9),
    "change": (1, 3),
    "buffer~": (1, 2),
    "play~": (1, 2),
    "*~": (2, 1),
    "coll": (1, 4),
    "makenote": (3, 2),
    "noteout": (3, 0),
    "ctlout": (3, 0),
    "notein": (1, 3),
    "midiin": (1, 1),
    "midiout": (1, 0),
    "plugin~": (1, 2),
    "plugout~": (2, 0),
    "f": (2, 1),
    "-": (2, 1),
    "==": (2, 1),
    "gate": None,
    "print": (1, 0),
    "conformpath": (1, 2),
    "adc~": (1, 2),
    "record~": (3, 1),
    "zl": (2, 2),
    "t": None,
    "trigger": None,
    "unpack": None,
    "pack": None,
    "route": None,
    "sel": None,
    "select": None,
    "sprintf": None,
    "dict": (2, 4),
    "dict.unpack": None,
}
MAX_UI: dict[str, tuple[int, int]] = {
    "message": (2, 1),
    "comment": (1, 0),
    "button": (1, 1),
    "toggle": (1, 1),
    "number": (1, 2),
    "flonum": (1, 2),
    "umenu": (1, 3),
    "dropfile": (1, 2),
    "slider": (1, 1),
    "ezdac~": (2, 0),
    "panel": (1, 0),
}
SIGNAL_INLETS = {
    "*~",
    "ezdac~",
    "plugout~",
    "record~",
}  # objects the patches feed with audio signals


class CannotInfer(Exception):
    """A message argument whose type the patch does not determine."""


def expected_ports(box: dict[str, Any]) -> tuple[int, int]:
    maxclass = box["maxclass"]
    if maxclass != "newobj":
        return MAX_UI[maxclass]
    name, *args = box["text"].split()
    if name not in MAX_OBJECTS:
        raise KeyError(f"object [{box['text']}] is not in the table of known Max objects")
    known = MAX_OBJECTS[name]
    if known is not None:
        return known
    if name in ("t", "trigger", "unpack"):
        return 1, len(args)
    if name == "pack":
        return len(args), 1
    if name == "route":
        return 2, len(args) + 1
    if name in ("sel", "select"):
        return (2 if len(args) == 1 else 1), len(args) + 1
    if name == "gate":
        return 2, int(args[0]) if args else 1
    if name == "dict.unpack":  # one outlet per key, and one for the rest
        return 1, len(args) + 1
    specs = len(re.findall(r"%[-+ #0-9.]*[a-z]", box["text"]))  # sprintf
    return max(1, specs), 1


def tokens(text: str) -> list[str]:
    """Atoms of a Max message, double-quoted symbols kept whole (quotes removed)."""
    return [a if b == "" else b for a, b in re.findall(r'([^\s"]+)|"([^"]*)"', text)]


def atom_type(token: str) -> str:
    if re.fullmatch(r"-?\d+", token):
        return "i"
    if re.fullmatch(r"-?(\d+\.\d*|\.\d+|\d+\.?\d*e-?\d+)", token):
        return "f"
    return "s"


def literal(token: str) -> Any:
    kind = atom_type(token)
    return int(token) if kind == "i" else float(token) if kind == "f" else token


@dataclass(frozen=True)
class Atom:
    type: str  # "i", "f" or "s"
    value: Any = None  # known when the patch spells it out


@dataclass
class SentMessage:
    """One OSC message a patch can send: its address (or address templates) and arguments."""

    box: str
    address: str
    args: list[Atom]
    templates: list[str] = field(default_factory=list)  # "/dawhost/%s/continue" from a menu


def read_device(data: bytes) -> tuple[str, dict[str, Any]]:
    """(device type, patcher) of a .amxd, read chunk by chunk as Live does: `ampf` with
    version 4 and the type, then `meta` and `ptch` (little-endian sizes), the patcher's JSON
    NUL-terminated. Raises ValueError for anything else."""
    if len(data) < 12 or data[:4] != b"ampf" or int.from_bytes(data[4:8], "little") != 4:
        raise ValueError("no ampf header of version 4")
    kind = DEVICE_TYPES.get(data[8:12])
    if kind is None:
        raise ValueError(f"unknown device type {data[8:12]!r}")
    chunks, offset = {}, 12
    while offset < len(data):
        tag, size = (
            data[offset : offset + 4],
            int.from_bytes(data[offset + 4 : offset + 8], "little"),
        )
        if offset + 8 + size > len(data):
            raise ValueError(f"chunk {tag!r} runs past the end of the file")
        chunks[tag] = data[offset + 8 : offset + 8 + size]
        offset += 8 + size
    if set(chunks) != {b"meta", b"ptch"} or len(chunks[b"meta"]) != 4:
        raise ValueError(f"expected a 4-byte meta and a ptch chunk, got {sorted(chunks)}")
    if not chunks[b"ptch"].endswith(b"\x00"):
        raise ValueError("ptch is not NUL-terminated")
    return kind, json.loads(chunks[b"ptch"][:-1].decode("utf-8"))


class Patch:
    def __init__(self, path: Path) -> None:
        self.path = path
        if path.suffix == ".amxd":
            self.device_type, self.data = read_device(path.read_bytes())
        else:
            self.device_type, self.data = "", json.loads(path.read_text())
        self.patcher = self.data["patcher"]
        self.boxes = {b["box"]["id"]: b["box"] for b in self.patcher["boxes"]}
        self.lines = [
            (line["patchline"]["source"], line["patchline"]["destination"])
            for line in self.patcher["lines"]
        ]

    def objects(self, name: str) -> list[dict[str, Any]]:
        return [
            b
            for b in self.boxes.values()
            if b["maxclass"] == "newobj" and b["text"].split()[0] == name
        ]

    def sources(self, box_id: str, inlet: int = 0) -> list[tuple[dict[str, Any], int]]:
        return [(self.boxes[s[0]], s[1]) for s, d in self.lines if d[0] == box_id and d[1] == inlet]

    def comments(self) -> list[str]:
        return [b["text"] for b in self.boxes.values() if b["maxclass"] == "comment"]

    # --- what reaches [udpsend] ----------------------------------------------------------
    def sent_messages(self) -> list[SentMessage]:
        sent = []
        for udpsend in self.objects("udpsend"):
            for box, _ in self.sources(udpsend["id"]):
                sent.extend(self._messages_from(box))
        return sent

    def _messages_from(self, box: dict[str, Any]) -> list[SentMessage]:
        if box["maxclass"] == "message":
            return [
                SentMessage(box["id"], part[0].value, part[1:]) for part in self._message_atoms(box)
            ]
        if box["maxclass"] == "newobj" and box["text"].split()[0] == "prepend":
            prefix = [Atom(atom_type(t), literal(t)) for t in tokens(box["text"])[1:]]
            templates = []
            messages = []
            for source, outlet in self.sources(box["id"]):
                if source["maxclass"] == "newobj" and source["text"].startswith("sprintf set "):
                    templates.append(tokens(source["text"])[2])  # re-targets the prefix
                    continue
                for args in self.produced(source, outlet):
                    messages.append(SentMessage(box["id"], prefix[0].value, prefix[1:] + args))
            for message in messages:
                message.templates = templates
            return messages
        if box["maxclass"] == "newobj" and box["text"].split()[0] == "sprintf":
            # [sprintf /dawhost/%s/options]: an address made from the model menu's choice
            return [SentMessage(box["id"], tokens(box["text"])[1], [])]
        raise CannotInfer(f"[{box.get('text', box['maxclass'])}] feeds udpsend directly")

    def _message_atoms(self, box: dict[str, Any]) -> list[list[Atom]]:
        """Each comma-separated message of a message box, with $N worked out."""
        inputs = None
        parts = []
        for text in box["text"].split(","):
            atoms = []
            for token in tokens(text.strip()):
                match = re.fullmatch(r"\$(\d)", token)
                if match:
                    if inputs is None:
                        inputs = self._inputs(box)
                    index = int(match.group(1)) - 1
                    if index >= len(inputs):
                        raise CannotInfer(f"{token} in [{box['text']}] has no input atom")
                    atoms.append(inputs[index])
                else:
                    atoms.append(Atom(atom_type(token), literal(token)))
            parts.append(atoms)
        return parts

    def _inputs(self, box: dict[str, Any]) -> list[Atom]:
        """The atoms arriving at inlet 0; every source must send the same types."""
        found: list[list[Atom]] = []
        for source, outlet in self.sources(box["id"]):
            found.extend(self.produced(source, outlet))
        if not found:
            raise CannotInfer(f"nothing feeds [{box['text']}]")
        shapes = {tuple(a.type for a in atoms) for atoms in found}
        if len(shapes) > 1:
            raise CannotInfer(f"[{box['text']}] gets different argument types: {shapes}")
        return found[0]

    def produced(self, box: dict[str, Any], outlet: int) -> list[list[Atom]]:
        """The messages (as atom lists) a box sends from one outlet."""
        maxclass = box["maxclass"]
        if maxclass == "message" and not box["text"]:
            # An empty box sends nothing until its right inlet sets it (the current request
            # id, say): it sends what that inlet gets.
            return [atoms for s, o in self.sources(box["id"], 1) for atoms in self.produced(s, o)]
        if maxclass == "message":
            return self._message_atoms(box)
        if maxclass == "number":
            return [[Atom("i")]]
        if maxclass == "flonum":
            return [[Atom("f")]]
        if maxclass == "toggle":
            return [[Atom("i")]]
        if maxclass == "umenu" and outlet == 1:
            return [[Atom("s")]]
        if maxclass != "newobj":
            raise CannotInfer(f"{maxclass} outlet {outlet}")
        name, *args = tokens(box["text"])
        if name == "sprintf" and args[:1] == ["symout"]:
            return [[Atom("s")]]
        if name == "pack":
            return [
                [
                    Atom(a, None) if a in ("s", "i", "f") else Atom(atom_type(a), literal(a))
                    for a in args
                ]
            ]
        if name == "loadmess":
            return [[Atom(atom_type(a), literal(a)) for a in args]]
        if name in ("t", "trigger"):
            kind = args[outlet]
            if kind == "l":
                return [self._inputs(box)]
            if kind in "ifs":
                return [[Atom(kind)]]
            raise CannotInfer(f"[{box['text']}] outlet {outlet} sends {kind}")
        if name == "change":
            return [self._inputs(box)]
        if name == "i":
            return [[Atom("i")]]
        if name == "zl" and args[:1] == ["group"]:
            # What was played: pitch velocity start duration groups (one stands for them all)
            return [[Atom("i"), Atom("i"), Atom("f"), Atom("f")]]
        if name == "zl" and args[:1] == ["join"] and outlet == 0:
            right = [a for s, o in self.sources(box["id"], 1) for a in self.produced(s, o)]
            return [left + atoms for left in [self._inputs(box)] for atoms in right]
        if name == "prepend":
            prefix = [Atom(atom_type(t), literal(t)) for t in args]
            return [prefix + atoms for atoms in [self._inputs(box)]]
        if name in ("/", "*"):
            return [[Atom("f" if "." in args[0] else "i")]]
        if name == "unpack":
            kind = args[outlet]
            return [[Atom(kind if kind in ("s", "i", "f") else atom_type(kind))]]
        if name == "conformpath" and outlet == 0:
            return [[Atom("s")]]
        if name == "transport":
            if outlet == 5:  # time signature: numerator, denominator
                return [[Atom("i"), Atom("i")]]
            kind = box["outlettype"][outlet]
            if kind in ("int", "float"):
                return [[Atom(kind[0])]]
        raise CannotInfer(f"[{box['text']}] outlet {outlet}")


def all_patches() -> list[Path]:
    """Every patch and Max for Live device of the package."""
    return sorted(PATCH_FOLDER.glob("*.maxpat")) + sorted(DEVICE_FOLDER.glob("*.amxd"))
