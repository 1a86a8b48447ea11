"""A small Max runtime for the objects the dawhost patches use, to run a patch against a real
server: clicks and drops go in, OSC goes out through a real UDP socket, replies come back
through [udpreceive] and flow on to displays, buffers and colls that a test can read.

Messages are lists of atoms (int, float, str). Max's rules that matter for these patches are
kept: outlets fire right to left, one outlet's cords fire in right-to-left order of the boxes
they reach, only left inlets trigger output, and message boxes substitute $1..$9.
"""

from __future__ import annotations

import re
import select
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import soundfile

from protocols.osc_wire import decode_packet, encode_message
from tests.clients.max_patch import Patch, atom_type, literal, tokens

Message = list[Any]
BANG: Message = ["bang"]


def parse(text: str) -> list[Any]:
    return [literal(t) if atom_type(t) != "s" else t for t in tokens(text)]


class MaxObject:
    def __init__(self, runtime: Runtime, box: dict[str, Any]) -> None:
        self.runtime = runtime
        self.box = box
        self.args = parse(box.get("text", ""))[1:] if box["maxclass"] == "newobj" else []

    def out(self, outlet: int, message: Message) -> None:
        self.runtime.send(self.box["id"], outlet, message)

    def receive(self, inlet: int, message: Message) -> None:  # noqa: B027 - default: ignore
        pass

    def load(self) -> None:  # noqa: B027 - loadbang and loadmess override it
        pass


class MessageBox(MaxObject):
    def __init__(self, runtime: Runtime, box: dict[str, Any]) -> None:
        super().__init__(runtime, box)
        self.content: list[Any] = parse(box["text"])

    def receive(self, inlet: int, message: Message) -> None:
        if inlet == 1 or message[:1] == ["set"]:
            self.content = message[1:] if message[:1] in (["set"], ["symbol"]) else message
            return
        if not self.content:
            return  # an empty message box sends nothing when clicked
        atoms = []
        for token in self.content:  # (the patches use no commas inside message boxes)
            match = re.fullmatch(r"\$(\d)", str(token))
            atoms.append(message[int(match.group(1)) - 1] if match and message != BANG else token)
        self.out(0, atoms)


class Number(MaxObject):
    def __init__(self, runtime: Runtime, box: dict[str, Any]) -> None:
        super().__init__(runtime, box)
        self.value: float = 0

    def receive(self, inlet: int, message: Message) -> None:
        head = message[0]
        if head in ("min", "max"):  # range attributes; "" (unbounded) clears one
            setattr(self, head, None if message[1] == "" else message[1])
            return
        if message != BANG:
            value = (int if self.box["maxclass"] in ("number", "toggle") else float)(message[-1])
            self.value = self._clip(value)
            if head == "set":  # shown, not sent on
                return
        self.out(0, [self.value])

    min: float | None = None
    max: float | None = None

    def _clip(self, value: float) -> float:
        low = self.box.get("minimum", self.min) if self.min is None else self.min
        high = self.box.get("maximum", self.max) if self.max is None else self.max
        if low is not None:
            value = max(value, type(value)(low))
        if high is not None:
            value = min(value, type(value)(high))
        return value


class Button(MaxObject):
    def receive(self, inlet: int, message: Message) -> None:
        self.out(0, BANG)


class Display(MaxObject):
    """slider and the like: keeps the last value it was sent."""

    value: Message | None = None

    def receive(self, inlet: int, message: Message) -> None:
        self.value = message


class LoadMess(MaxObject):
    def load(self) -> None:
        self.out(0, BANG if self.box["text"] == "loadbang" else self.args)


class Trigger(MaxObject):
    def receive(self, inlet: int, message: Message) -> None:
        for outlet in reversed(range(len(self.args))):
            kind = self.args[outlet]
            if kind == "b":
                self.out(outlet, BANG)
            elif kind == "l":
                self.out(outlet, message)
            else:
                convert = {"i": int, "f": float, "s": str}[kind]
                self.out(outlet, [convert(message[0])])


class Int(MaxObject):
    def __init__(self, runtime: Runtime, box: dict[str, Any]) -> None:
        super().__init__(runtime, box)
        self.value = self.args[0] if self.args else 0

    def receive(self, inlet: int, message: Message) -> None:
        if message != BANG:
            self.value = int(message[0])
        if inlet == 0:
            self.out(0, [self.value])


class Float(Int):
    def receive(self, inlet: int, message: Message) -> None:
        if message != BANG:
            self.value = float(message[0])
        if inlet == 0:
            self.out(0, [self.value])


class Gate(MaxObject):
    """[gate N]: the left inlet picks the outlet (1..N, 0 closed) the right inlet's data takes."""

    open = 0

    def receive(self, inlet: int, message: Message) -> None:
        if inlet == 0:
            self.open = int(message[0])
        elif self.open:
            self.out(self.open - 1, message)


class NoteIn(MaxObject):
    """[notein] in a Max for Live MIDI effect: the track's notes (velocity 0: a note-off)."""

    def play(self, pitch: int, velocity: int) -> None:
        self.out(2, [1])
        self.out(1, [velocity])
        self.out(0, [pitch])


class Arithmetic(MaxObject):
    OPERATIONS: dict[str, Callable[[Any, Any], Any]] = {
        "+": lambda a, b: a + b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
        "-": lambda a, b: a - b,
        "==": lambda a, b: int(a == b),
    }

    def receive(self, inlet: int, message: Message) -> None:
        if inlet == 1:
            self.args[0] = message[0]
            return
        result = self.OPERATIONS[self.box["text"].split()[0]](message[0], self.args[0])
        self.out(0, [float(result) if isinstance(self.args[0], float) else int(result)])


class Sprintf(MaxObject):
    def receive(self, inlet: int, message: Message) -> None:
        words = self.box["text"].split()[1:]
        symout = words[:1] == ["symout"]
        template = " ".join(words[1:] if symout else words)
        text = re.sub(r"%l?[dsf]", lambda _: str(message[0]), template, count=1)
        self.out(0, [text] if symout else parse(text))


class Pack(MaxObject):
    def __init__(self, runtime: Runtime, box: dict[str, Any]) -> None:
        super().__init__(runtime, box)
        self.values = [
            {"s": "", "i": 0, "f": 0.0}.get(a, a) if isinstance(a, str) else a for a in self.args
        ]

    def receive(self, inlet: int, message: Message) -> None:
        if message != BANG:
            self.values[inlet] = message[0]
        if inlet == 0:
            self.out(0, list(self.values))


class Unpack(MaxObject):
    def receive(self, inlet: int, message: Message) -> None:
        for outlet in reversed(range(min(len(self.args), len(message)))):
            self.out(outlet, [message[outlet]])


class Route(MaxObject):
    def receive(self, inlet: int, message: Message) -> None:
        for outlet, selector in enumerate(self.args):
            if message[:1] == [selector]:
                self.out(outlet, message[1:] or BANG)
                return
        self.out(len(self.args), message)


class Select(MaxObject):
    def receive(self, inlet: int, message: Message) -> None:
        for outlet, value in enumerate(self.args):
            if message[:1] == [value]:
                self.out(outlet, BANG)
                return
        self.out(len(self.args), message)


class Zl(MaxObject):
    def __init__(self, runtime: Runtime, box: dict[str, Any]) -> None:
        super().__init__(runtime, box)
        self.stored: list[Any] = []

    def receive(self, inlet: int, message: Message) -> None:
        mode = self.args[0]
        if mode == "join":
            if inlet == 1:
                self.stored = message
            else:
                self.out(0, message + self.stored)
        elif mode == "slice":
            count = self.args[1]
            if message[count:]:
                self.out(1, message[count:])
            self.out(0, message[:count])
        elif mode == "iter":
            for atom in message:
                self.out(0, [atom])
        elif mode == "len":
            self.out(0, [len(message)])
        elif mode == "nth":
            self.out(0, [message[self.args[1] - 1]])
        elif mode == "group":
            if message == ["zlclear"]:
                self.stored = []
            elif message == BANG:
                if self.stored:
                    self.out(0, self.stored)
            else:
                self.stored = (self.stored + message)[: self.args[1]]


class Dict(MaxObject):
    """[dict name]: `parse <json>` replaces the contents (shared by every [dict] of that name
    in the runtime), then it outputs `dictionary <name>` as Max does."""

    def receive(self, inlet: int, message: Message) -> None:
        import json

        name = self.args[0]
        if inlet == 0 and message[:1] == ["parse"]:
            self.runtime.dictionaries[name] = json.loads(" ".join(str(a) for a in message[1:]))
            self.out(0, ["dictionary", name])
        elif inlet == 0 and message == BANG and name in self.runtime.dictionaries:
            self.out(0, ["dictionary", name])


class DictUnpack(MaxObject):
    """[dict.unpack a: b:]: each key's value out of its outlet, right to left (lists as lists)."""

    def receive(self, inlet: int, message: Message) -> None:
        if message[:1] != ["dictionary"]:
            return
        contents = self.runtime.dictionaries[message[1]]
        keys = [str(a).rstrip(":") for a in self.args]
        for index in reversed(range(len(keys))):
            if keys[index] in contents:
                value = contents[keys[index]]
                self.out(index, list(value) if isinstance(value, list) else [value])


class Prepend(MaxObject):
    def receive(self, inlet: int, message: Message) -> None:
        if message[:1] == ["set"]:
            self.args = message[1:]
        else:
            self.out(0, self.args + message)


class Change(MaxObject):
    last: Any = None

    def receive(self, inlet: int, message: Message) -> None:
        if message[0] != self.last:
            self.last = message[0]
            self.out(0, message)


class UdpSend(MaxObject):
    """Sends for real; the patch's port is mapped onto the test server's OSC port."""

    def receive(self, inlet: int, message: Message) -> None:
        self.runtime.sent.append(message)
        self.runtime.socket.sendto(encode_message(message[0], message[1:]), self.runtime.server)


class UdpReceive(MaxObject):
    def __init__(self, runtime: Runtime, box: dict[str, Any]) -> None:
        super().__init__(runtime, box)
        self.sock: socket.socket | None = None

    def receive(self, inlet: int, message: Message) -> None:
        if message[0] == "port":
            if self.sock is not None:
                self.sock.close()
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                self.sock.bind(("127.0.0.1", message[1]))
            except OSError:  # 9001 taken on this machine: the test types a free port next
                self.sock.close()
                self.sock = None

    def poll(self, timeout: float) -> bool:
        if self.sock is None or not select.select([self.sock], [], [], timeout)[0]:
            return False
        data, _ = self.sock.recvfrom(65536)
        for osc in decode_packet(data):
            self.out(0, [osc.address, *osc.args])
        return True


class Menu(MaxObject):
    def __init__(self, runtime: Runtime, box: dict[str, Any]) -> None:
        super().__init__(runtime, box)
        self.items: list[Any] = list(box.get("items", []))
        self.selected: Any = None

    def receive(self, inlet: int, message: Message) -> None:
        head = message[0]
        if head == "clear":
            self.items = []
        elif head == "append":
            self.items.append(message[1])
        elif head == "setsymbol":
            self.selected = message[1] if message[1] in self.items else self.selected
        elif head == "symbol" and message[1] in self.items:
            self.selected = message[1]
            self.out(1, [message[1]])
            self.out(0, [self.items.index(message[1])])


class Buffer(MaxObject):
    def __init__(self, runtime: Runtime, box: dict[str, Any]) -> None:
        super().__init__(runtime, box)
        self.path: str | None = None
        self.frames = 0
        self.samples: Any = None  # what [record~] wrote into it
        self.rate = 44_100

    def receive(self, inlet: int, message: Message) -> None:
        if message[0] == "replace":
            self.path = message[1]
            self.frames = soundfile.info(message[1]).frames
            self.out(1, BANG)
        elif message[0] == "writewave" and self.samples is not None:
            soundfile.write(message[1], self.samples, self.rate)
            self.path = message[1]


class RecordTilde(MaxObject):
    """[record~ name]: 1 starts, 0 stops; what the runtime's microphone played in between
    (`Runtime.microphone`, samples and rate, as a test sets it) lands in the named buffer~."""

    def receive(self, inlet: int, message: Message) -> None:
        if inlet != 0 or message[0] != 0 or self.runtime.microphone is None:
            return
        samples, rate = self.runtime.microphone
        for buffer in self.runtime.all("buffer~"):
            if isinstance(buffer, Buffer) and buffer.args[:1] == self.args[:1]:
                buffer.samples, buffer.rate = samples, rate


class Recorder(MaxObject):
    """play~, coll, noteout, print: remembers what it got (coll by index)."""

    def __init__(self, runtime: Runtime, box: dict[str, Any]) -> None:
        super().__init__(runtime, box)
        self.received: list[tuple[int, Message]] = []
        self.stored: dict[Any, Message] = {}

    def receive(self, inlet: int, message: Message) -> None:
        self.received.append((inlet, message))
        if self.box.get("text", "").startswith("coll"):
            if message == ["clear"]:
                self.stored = {}
            elif len(message) == 1 and isinstance(message[0], int):  # look up an index
                if message[0] in self.stored:
                    self.out(1, [message[0]])
                    self.out(0, self.stored[message[0]])
            else:
                self.stored[message[0]] = message[1:]


class MakeNote(MaxObject):
    velocity = 0

    def receive(self, inlet: int, message: Message) -> None:
        if inlet == 1:
            self.velocity = message[0]
        elif inlet == 0:
            self.out(1, [self.velocity])
            self.out(0, [message[0]])


class Transport(MaxObject):
    """Max's global transport: state shared by every [transport] in the runtime."""

    def receive(self, inlet: int, message: Message) -> None:
        clock = self.runtime.clock
        if message[:1] == ["tempo"]:  # the attribute messages a patch can send it
            clock["tempo"] = float(message[1])
            return
        if message[:1] == ["timesig"]:
            clock["signature"] = (int(message[1]), int(message[2]))
            return
        if message != BANG:
            clock["state"] = int(message[0])
            return
        self.out(7, [float(clock["ticks"])])
        self.out(6, [clock["state"]])
        self.out(5, list(clock["signature"]))
        self.out(4, [float(clock["tempo"])])


class Metro(MaxObject):
    running = False

    def receive(self, inlet: int, message: Message) -> None:
        self.running = bool(message[0]) if message != BANG else True


CLASSES: dict[str, type[MaxObject]] = {
    "message": MessageBox,
    "number": Number,
    "flonum": Number,
    "toggle": Number,
    "button": Button,
    "slider": Display,
    "umenu": Menu,
    "dropfile": MaxObject,
    "ezdac~": MaxObject,
    "comment": MaxObject,
    "panel": MaxObject,
    "loadbang": LoadMess,
    "loadmess": LoadMess,
    "t": Trigger,
    "trigger": Trigger,
    "i": Int,
    "+": Arithmetic,
    "*": Arithmetic,
    "/": Arithmetic,
    "sprintf": Sprintf,
    "pack": Pack,
    "unpack": Unpack,
    "route": Route,
    "sel": Select,
    "select": Select,
    "zl": Zl,
    "prepend": Prepend,
    "change": Change,
    "udpsend": UdpSend,
    "udpreceive": UdpReceive,
    "buffer~": Buffer,
    "play~": Recorder,
    "coll": Recorder,
    "noteout": Recorder,
    "ctlout": Recorder,
    "notein": NoteIn,
    "midiin": MaxObject,
    "midiout": Recorder,
    "plugin~": MaxObject,
    "plugout~": Recorder,
    "f": Float,
    "-": Arithmetic,
    "==": Arithmetic,
    "gate": Gate,
    "print": Recorder,
    "makenote": MakeNote,
    "transport": Transport,
    "metro": Metro,
    "conformpath": Trigger,
    "*~": MaxObject,
    "adc~": MaxObject,
    "record~": RecordTilde,
    "dict": Dict,
    "dict.unpack": DictUnpack,
}


class Runtime:
    def __init__(self, path: Path, server_port: int) -> None:
        self.patch = Patch(path)
        self.server = ("127.0.0.1", server_port)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # [udpsend]'s port
        self.socket.bind(("127.0.0.1", 0))
        self.sent: list[Message] = []
        self.microphone: tuple[Any, int] | None = None  # (samples, rate) [record~] records
        self.clock: dict[str, Any] = {"state": 0, "tempo": 120.0, "signature": (4, 4), "ticks": 0.0}
        self.dictionaries: dict[str, Any] = {}  # [dict] contents by name
        self.objects: dict[str, MaxObject] = {}
        for box_id, box in self.patch.boxes.items():
            name = box["maxclass"] if box["maxclass"] != "newobj" else box["text"].split()[0]
            self.objects[box_id] = CLASSES[name](self, box)
        conformpath = self.first("conformpath")
        if conformpath is not None:  # a path passes through unchanged on this system
            conformpath.args = ["l"]

    def close(self) -> None:
        self.socket.close()
        for receiver in self.all("udpreceive"):
            if isinstance(receiver, UdpReceive) and receiver.sock is not None:
                receiver.sock.close()

    def send(self, box_id: str, outlet: int, message: Message) -> None:
        cords = [
            (self.patch.boxes[d[0]]["patching_rect"][0], d[0], d[1])
            for s, d in self.patch.lines
            if s == [box_id, outlet]
        ]
        for _, destination, inlet in sorted(cords, reverse=True):  # right to left
            self.objects[destination].receive(inlet, message)

    # --- what a person does ----------------------------------------------------------------
    def open(self) -> None:
        for obj in self.objects.values():
            obj.load()

    def click(self, box: MaxObject) -> None:
        box.receive(0, BANG)

    def type_number(self, box: MaxObject, value: float) -> None:
        box.receive(0, [value])

    def drop(self, box: MaxObject, path: str) -> None:
        box.out(0, [path])

    def tick(self, period: float | None = None) -> None:
        """One period of every running [metro] (only those of `period` ms, if given)."""
        for metro in self.all("metro"):
            if isinstance(metro, Metro) and metro.running:
                if period is None or metro.args[:1] == [period]:
                    metro.out(0, BANG)

    def pump(self, until: Callable[[], bool], timeout: float = 10.0) -> None:
        """Feed replies from the server into the patch until `until()` holds."""
        import time

        deadline = time.monotonic() + timeout
        receivers = [r for r in self.all("udpreceive") if isinstance(r, UdpReceive)]
        while not until():
            if time.monotonic() > deadline:
                raise TimeoutError("the patch never reached the expected state")
            for receiver in receivers:
                receiver.poll(0.05)

    # --- finding boxes ---------------------------------------------------------------------
    def all(self, name: str) -> list[MaxObject]:
        return [
            o
            for o in self.objects.values()
            if (o.box["maxclass"] if o.box["maxclass"] != "newobj" else o.box["text"].split()[0])
            == name
        ]

    def first(self, name: str) -> MaxObject | None:
        found = self.all(name)
        return found[0] if found else None

    def message(self, starts_with: str) -> MessageBox:
        """The message box whose text starts with `starts_with`."""
        (box,) = [
            o
            for o in self.objects.values()
            if isinstance(o, MessageBox) and o.box["text"].startswith(starts_with)
        ]
        return box

    def fed_by(self, source: MaxObject, outlet: int, inlet: int = 1) -> list[MaxObject]:
        """Boxes a source's outlet reaches at a given inlet (displays are set via inlet 1)."""
        return [
            self.objects[d[0]]
            for s, d in self.patch.lines
            if s == [source.box["id"], outlet] and d[1] == inlet
        ]
