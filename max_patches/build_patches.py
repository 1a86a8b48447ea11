"""Writes the dawhost Max patches (.maxpat, Max 8/9 JSON) in this folder.

Run `python max_patches/build_patches.py` after editing; the .maxpat files are committed too, so
Max users never need Python. Only built-in Max objects are used. Every patch talks OSC to the
server on 127.0.0.1:9000 with [udpsend] and hears replies on [udpreceive 9001], after telling the
server that port with `/dawhost/reply 9001` when it opens.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVER_HOST = "127.0.0.1"
SEND_PORT = 9000  # dawhost's default OSC port
REPLY_PORT = 9001  # dawhost's default reply port

# The built-in models each capability patch asks by default (the menu in each patch switches).
CONTINUE_MODEL = "music-transformer"
RENDER_MODEL = "melnet"
SING_MODEL = "vocal-tts"
SEPARATE_MODEL = "separation"
STEMS = ("vocals", "drums", "bass", "other")

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
    "print": (1, []),
    "conformpath": (1, ["", ""]),
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


# --- building blocks shared by the patches -------------------------------------------------


@dataclass
class Link:
    """The OSC link of one patch: where to send, and the router of the server's replies."""

    send: Box
    replies: Box  # [route /dawhost/...]; outlets in the order of `routes`
    routes: list[str]

    def outlet(self, address: str) -> int:
        return self.routes.index(address)


def link_block(p: Patcher, f: Flow, routes: list[str]) -> Link:
    """udpsend/udpreceive, reply-port registration on load, and a reply router."""
    f.row(
        p.comment(
            f"1. dawhost must be running (`dawhost serve`): requests go to UDP {SEND_PORT}. "
            f"Replies come back to port {REPLY_PORT}, which the patch registers when it opens. "
            "To open two patches at once, type another port into this number box in one of them.",
            f.width,
        )
    )
    port = p.ui("number", 60, 22, minimum=1, maximum=65535)
    load = p.obj(f"loadmess {REPLY_PORT}")
    f.row(port, load)
    p.connect(load, 0, port)
    fan = p.obj("t i i")
    f.row(fan)
    p.connect(port, 0, fan)
    register = p.msg("/dawhost/reply $1")
    listen = p.msg("port $1")
    f.row(register, listen)
    p.connect(fan, 1, listen)
    p.connect(fan, 0, register)
    send = p.obj(f"udpsend {SERVER_HOST} {SEND_PORT}")
    receive = p.obj(f"udpreceive {REPLY_PORT}")
    f.row(send, receive)
    p.connect(register, 0, send)
    p.connect(listen, 0, receive)
    router = p.obj("route " + " ".join(routes), max_width=f.width)
    f.row(router)
    p.connect(receive, 0, router)
    unrouted = p.obj("print dawhost-other")
    f.row(p.comment("anything else goes to the Max console:", 240), unrouted)
    p.connect(router, len(routes), unrouted)
    f.space()
    return Link(send, router, routes)


def request_id_block(p: Patcher, f: Flow, trigger: Box, outlet: int, prefix: str) -> Box:
    """A counter making request ids prefix1, prefix2, ... (symbols); returns the sprintf box."""
    count = p.obj("i 0")
    step = p.obj("+ 1")
    f.row(count, step)
    p.connect(trigger, outlet, count)
    p.connect(count, 0, step)
    p.connect(step, 0, count, 1)
    name = p.obj(f"sprintf symout {prefix}%ld")
    f.row(name)
    p.connect(step, 0, name)
    return name


def status_block(p: Patcher, link: Link, f: Flow) -> Box:
    """Progress bar, status text, errors and the cancel button; returns the id message box."""
    f.row(p.comment("Progress of the running request, and its status message:", f.width))
    progress = p.obj("unpack s f s")
    scale = p.obj("* 100.")
    f.row(progress, scale)
    p.connect(link.replies, link.outlet("/dawhost/progress"), progress)
    p.connect(progress, 1, scale)
    bar = p.ui("slider", 240, 18, orientation=1, size=101.0, floatoutput=1)
    status = p.msg("", width=200)
    f.row(bar, status)
    p.connect(scale, 0, bar)
    p.connect(progress, 2, status, 1)
    f.row(p.comment("Errors (request id, code, message, field) appear here:", f.width))
    errors = p.msg("", width=f.width)
    f.row(errors)
    p.connect(link.replies, link.outlet("/dawhost/error"), errors, 1)
    f.row(p.comment("Done (request id, seconds, outputs, provenance):", f.width))
    done = p.msg("", width=f.width)
    f.row(done)
    p.connect(link.replies, link.outlet("/dawhost/done"), done, 1)
    f.row(p.comment("Current request id: click it to cancel that request.", f.width))
    current = p.msg("none", width=120)
    cancel = p.obj("prepend /dawhost/cancel")
    f.row(current, cancel)
    p.connect(current, 0, cancel)
    p.connect(cancel, 0, link.send)
    f.space()
    return current


def model_menu(p: Patcher, link: Link, request: Box, f: Flow, verb: str, default: str) -> None:
    """A menu of the server's models; choosing one re-targets the request's address."""
    f.row(
        p.comment(
            f"Model: the menu is filled from the server when the patch opens (click "
            f"/dawhost/models to refresh); pick one that can {verb}.",
            f.width,
        )
    )
    ask = p.msg("/dawhost/models")
    opened = p.obj("loadbang")
    f.row(ask, opened)
    p.connect(ask, 0, link.send)
    p.connect(opened, 0, ask)
    fill = p.obj("t b l b")
    f.row(fill)
    p.connect(link.replies, link.outlet("/dawhost/models"), fill)
    ids = p.obj("zl slice 1")
    clear = p.msg("clear")
    f.row(ids, clear)
    p.connect(fill, 2, clear)
    p.connect(fill, 1, ids)
    each = p.obj("zl iter 1")
    append = p.obj("prepend append")
    f.row(each, append)
    p.connect(ids, 1, each)
    p.connect(each, 0, append)
    choose_default = p.msg(f"setsymbol {default}")
    f.row(choose_default)
    p.connect(fill, 0, choose_default)
    menu = p.ui("umenu", 200, 22, items=[default])
    f.row(menu)
    for source in (clear, append, choose_default):
        p.connect(source, 0, menu)
    retarget = p.obj(f"sprintf set /dawhost/%s/{verb}")
    f.row(retarget)
    p.connect(menu, 1, retarget)
    p.connect(retarget, 0, request)
    f.space()


def audio_player(p: Patcher, f: Flow, name: str, label: str) -> tuple[Box, Box]:
    """[prepend replace] -> buffer~ (plays when loaded) -> play~; returns (loader, player)."""
    load = p.obj("prepend replace")
    f.row(p.comment(label, 70, bold=False), load)
    buffer = p.obj(f"buffer~ {name}")
    f.row(buffer)
    p.connect(load, 0, buffer)
    start = p.msg("start")
    stop = p.msg("stop")
    f.row(start, stop)
    player = p.obj(f"play~ {name}")
    f.row(player)
    p.connect(start, 0, player)
    p.connect(stop, 0, player)
    p.connect(buffer, 1, start)  # play as soon as the file is loaded
    return load, player


def write(p: Patcher, name: str) -> Path:
    path = HERE / name
    path.write_text(json.dumps(p.json(), indent=1) + "\n")
    return path


# --- the patches ---------------------------------------------------------------------------

ALL_REPLIES = [
    "/dawhost/accepted",
    "/dawhost/progress",
    "/dawhost/note",
    "/dawhost/output",
    "/dawhost/done",
    "/dawhost/error",
    "/dawhost/reply",
    "/dawhost/pong",
    "/dawhost/model",
    "/dawhost/models",
    "/dawhost/transport",
]
LEFT, RIGHT, WIDTH = 20.0, 520.0, 460.0


def title(p: Patcher, f: Flow, name: str, intro: str) -> None:
    f.row(p.comment(name, f.width, bold=True))
    f.row(
        p.comment(
            intro + " Lock the patch (Cmd-E / Ctrl-E) to click; unlock it to edit message boxes.",
            f.width,
        )
    )
    f.space()


def overview() -> Patcher:
    p = Patcher("dawhost overview: connect, list models, progress and errors")
    left, right = Flow(LEFT, 16, WIDTH), Flow(RIGHT, 16, WIDTH)
    title(
        p,
        left,
        "dawhost - overview",
        "Every reply the server sends is shown here; anything else is printed to the Max console.",
    )
    link = link_block(p, left, ALL_REPLIES)

    left.row(p.comment("2. Click to check the connection: /dawhost/pong comes back.", WIDTH))
    ping = p.msg("/dawhost/ping hello")
    pong = p.msg("", width=160)
    left.row(ping, pong)
    p.connect(ping, 0, link.send)
    p.connect(link.replies, link.outlet("/dawhost/pong"), pong, 1)
    registered = p.msg("", width=80)
    left.row(p.comment("Reply port the server confirmed:", 220), registered)
    p.connect(link.replies, link.outlet("/dawhost/reply"), registered, 1)
    left.space()

    left.row(
        p.comment(
            "3. Click to list the models: count and ids, then each model's "
            "description (inputs, options and their bounds) as JSON.",
            WIDTH,
        )
    )
    models = p.msg("/dawhost/models")
    left.row(models)
    p.connect(models, 0, link.send)
    listing = p.msg("", width=WIDTH)
    left.row(listing)
    p.connect(link.replies, link.outlet("/dawhost/models"), listing, 1)
    described = p.msg("", width=WIDTH)
    left.row(described)
    p.connect(link.replies, link.outlet("/dawhost/model"), described, 1)
    left.space()

    left.row(
        p.comment(
            f"4. Click the button to continue four notes with {CONTINUE_MODEL}; "
            "watch progress, notes and outputs on the right.",
            WIDTH,
        )
    )
    go = p.ui("button", 24, 24)
    left.row(go)
    rid = request_id_block(p, left, go, 0, "ov")
    body = p.msg("$1 primer 60 100 0 1 64 90 1 1 67 90 2 1 72 100 3 1 bars 1", width=WIDTH)
    left.row(body)
    request = p.obj(f"prepend /dawhost/{CONTINUE_MODEL}/continue")
    left.row(request)
    p.connect(rid, 0, body)
    p.connect(body, 0, request)
    p.connect(request, 0, link.send)

    right.row(p.comment("Accepted (request id, model, queue position):", WIDTH))
    accepted = p.msg("", width=WIDTH)
    right.row(accepted)
    p.connect(link.replies, link.outlet("/dawhost/accepted"), accepted, 1)
    current = status_block(p, link, right)
    p.connect(rid, 0, current, 1)
    right.row(p.comment("Last note (request id, pitch, velocity, start beat, duration):", WIDTH))
    notes = p.msg("", width=WIDTH)
    right.row(notes)
    p.connect(link.replies, link.outlet("/dawhost/note"), notes, 1)
    right.row(p.comment("Last output (request id, kind, name, count or path, ...):", WIDTH))
    output = p.msg("", width=WIDTH)
    right.row(output)
    p.connect(link.replies, link.outlet("/dawhost/output"), output, 1)
    right.space()
    right.row(
        p.comment(
            "Click to see the transport as the server has it: tempo, signature, "
            "playing, beat, bar:beat.",
            WIDTH,
        )
    )
    ask = p.msg("/dawhost/transport")
    clock = p.msg("", width=300)
    right.row(ask, clock)
    p.connect(ask, 0, link.send)
    p.connect(link.replies, link.outlet("/dawhost/transport"), clock, 1)
    return p


def continue_midi() -> Patcher:
    p = Patcher("dawhost: continue a MIDI phrase")
    left, right = Flow(LEFT, 16, WIDTH), Flow(RIGHT, 16, WIDTH)
    title(
        p,
        left,
        "dawhost - continue MIDI",
        "Sends a phrase (pitch velocity start_beat duration_beat per note) and collects the "
        "continuation, note by note, into [coll dawhost.notes] and Max's MIDI output.",
    )
    link = link_block(
        p,
        left,
        [
            "/dawhost/accepted",
            "/dawhost/progress",
            "/dawhost/note",
            "/dawhost/output",
            "/dawhost/done",
            "/dawhost/error",
            "/dawhost/models",
        ],
    )
    left.row(
        p.comment(
            "2. Set bars and temperature, edit the primer notes in the message "
            "box, then click the button to send.",
            WIDTH,
        )
    )
    bars = p.ui("number", 50, 22, minimum=1, maximum=32)
    load_bars = p.obj("loadmess 4")
    temperature = p.ui("flonum", 60, 22, minimum=0.1, maximum=2.0)
    load_temperature = p.obj("loadmess 1.")
    left.row(bars, load_bars, temperature, load_temperature)
    p.connect(load_bars, 0, bars)
    p.connect(load_temperature, 0, temperature)
    left.row(p.comment("bars", 62), p.comment("temperature", 160))
    go = p.ui("button", 24, 24)
    left.row(go)
    fan = p.obj("t b b")
    clear = p.msg("clear")
    reset = p.msg("0")
    left.row(fan, clear, reset)
    p.connect(go, 0, fan)
    p.connect(fan, 1, clear)
    p.connect(fan, 1, reset)
    rid = request_id_block(p, left, fan, 0, "mt")
    values = p.obj("pack s 4 1.")
    left.row(values)
    p.connect(rid, 0, values)
    p.connect(bars, 0, values, 1)
    p.connect(temperature, 0, values, 2)
    body = p.msg(
        "$1 primer 60 100 0 1 62 90 1 0.5 64 90 1.5 0.5 65 100 2 1 67 90 3 1 "
        "bars $2 temperature $3",
        width=WIDTH,
    )
    left.row(body)
    p.connect(values, 0, body)
    request = p.obj(f"prepend /dawhost/{CONTINUE_MODEL}/continue")
    left.row(request)
    p.connect(body, 0, request)
    p.connect(request, 0, link.send)
    left.space()
    model_menu(p, link, request, left, "continue", CONTINUE_MODEL)

    right.row(
        p.comment(
            "3. Notes arrive one by one: stored in the coll (double-click it to "
            "see them) and played on the default MIDI output.",
            WIDTH,
        )
    )
    note = p.obj("zl slice 1")
    play = p.obj("unpack s i i f f")
    right.row(note, play)
    p.connect(link.replies, link.outlet("/dawhost/note"), note)
    p.connect(link.replies, link.outlet("/dawhost/note"), play)
    order = p.obj("t b l")
    make = p.obj("makenote 100 250")
    right.row(order, make)
    p.connect(note, 1, order)
    p.connect(play, 2, make, 1)
    p.connect(play, 1, make)
    index = p.obj("i 0")
    step = p.obj("+ 1")
    out = p.obj("noteout")
    right.row(index, step, out)
    p.connect(order, 0, index)
    p.connect(index, 0, step)
    p.connect(step, 0, index, 1)
    p.connect(reset, 0, index, 1)
    p.connect(make, 1, out, 1)
    p.connect(make, 0, out)
    join = p.obj("zl join")
    right.row(join)
    p.connect(order, 1, join, 1)
    p.connect(step, 0, join)
    store = p.obj("coll dawhost.notes")
    right.row(store)
    p.connect(join, 0, store)
    p.connect(clear, 0, store)
    right.row(
        p.comment(
            "Or let dawhost play them in time: its MIDI port `dawhost out` sends "
            "the continuation on the beat (see the main README).",
            WIDTH,
        )
    )
    right.space()
    current = status_block(p, link, right)
    p.connect(rid, 0, current, 1)
    return p


def render_audio() -> Patcher:
    p = Patcher("dawhost: render audio and vocal lines")
    left, right = Flow(LEFT, 16, WIDTH), Flow(RIGHT, 16, WIDTH)
    title(
        p,
        left,
        "dawhost - render audio and vocal lines",
        "Both requests answer with a WAV path: it is loaded into [buffer~ dawhost.render] "
        "and played. Double-click the buffer~ to see the waveform.",
    )
    link = link_block(
        p,
        left,
        [
            "/dawhost/accepted",
            "/dawhost/progress",
            "/dawhost/output",
            "/dawhost/done",
            "/dawhost/error",
        ],
    )

    left.row(
        p.comment(
            f"2a. Render notes as audio with {RENDER_MODEL}: set the bars, then click the button.",
            WIDTH,
        )
    )
    bars = p.ui("number", 50, 22, minimum=1, maximum=16)
    load_bars = p.obj("loadmess 2")
    go = p.ui("button", 24, 24)
    left.row(bars, load_bars, go)
    p.connect(load_bars, 0, bars)
    rid = request_id_block(p, left, go, 0, "render")
    values = p.obj("pack s 2")
    left.row(values)
    p.connect(rid, 0, values)
    p.connect(bars, 0, values, 1)
    body = p.msg(
        "$1 notes 60 100 0 1 64 90 1 1 67 90 2 1 72 100 3 1 bars $2 instrument piano", width=WIDTH
    )
    left.row(body)
    p.connect(values, 0, body)
    request = p.obj(f"prepend /dawhost/{RENDER_MODEL}/render")
    left.row(request)
    p.connect(body, 0, request)
    p.connect(request, 0, link.send)
    left.space()

    left.row(
        p.comment(
            f"2b. Sing lyrics on a melody with {SING_MODEL}: edit the words and "
            "notes, set the bars, click the button.",
            WIDTH,
        )
    )
    sing_bars = p.ui("number", 50, 22, minimum=1, maximum=32)
    load_sing_bars = p.obj("loadmess 2")
    sing = p.ui("button", 24, 24)
    left.row(sing_bars, load_sing_bars, sing)
    p.connect(load_sing_bars, 0, sing_bars)
    sid = request_id_block(p, left, sing, 0, "sing")
    sing_values = p.obj("pack s 2")
    left.row(sing_values)
    p.connect(sid, 0, sing_values)
    p.connect(sing_bars, 0, sing_values, 1)
    sing_body = p.msg(
        '$1 lyrics "hello there my friend" notes 67 100 0 1 69 100 1 1 '
        "71 100 2 1 72 100 3 2 bars $2 voice female",
        width=WIDTH,
    )
    left.row(sing_body)
    p.connect(sing_values, 0, sing_body)
    sing_request = p.obj(f"prepend /dawhost/{SING_MODEL}/sing")
    left.row(sing_request)
    p.connect(sing_body, 0, sing_request)
    p.connect(sing_request, 0, link.send)

    right.row(
        p.comment(
            "3. The result is loaded, then played: click start / stop to hear it again.", WIDTH
        )
    )
    output = p.obj("zl slice 1")
    kind = p.obj("route audio")
    path = p.obj("unpack s s f")
    right.row(output, kind, path)
    p.connect(link.replies, link.outlet("/dawhost/output"), output)
    p.connect(output, 1, kind)
    p.connect(kind, 0, path)
    load, player = audio_player(p, right, "dawhost.render", "latest")
    p.connect(path, 1, load)
    gain = p.obj("*~ 0.5")
    right.row(gain)
    dac = p.ui("ezdac~", 45, 45)
    right.row(dac)
    p.connect(player, 0, gain)
    p.connect(gain, 0, dac)
    p.connect(gain, 0, dac, 1)
    right.space()
    current = status_block(p, link, right)
    p.connect(rid, 0, current, 1)
    p.connect(sid, 0, current, 1)
    return p


def separate_stems() -> Patcher:
    p = Patcher("dawhost: separate a file into four stems")
    left, middle, right = Flow(LEFT, 16, WIDTH), Flow(RIGHT, 16, 300), Flow(840, 16, 300)
    title(
        p,
        left,
        "dawhost - separate stems",
        "Drop an audio file on the box and click separate: vocals, drums, bass and other "
        "arrive as WAV paths and load into four buffer~ objects. The server reads only files "
        "in its work folder or in the folders listed as input_roots in its config: put your "
        "loops there.",
    )
    link = link_block(
        p,
        left,
        [
            "/dawhost/accepted",
            "/dawhost/progress",
            "/dawhost/output",
            "/dawhost/done",
            "/dawhost/error",
            "/dawhost/models",
        ],
    )
    left.row(p.comment("2. Drop a WAV/AIFF/FLAC file here:", WIDTH))
    drop = p.ui("dropfile", 240, 60, types=[])
    left.row(drop)
    native = p.obj("conformpath native boot")
    left.row(native)
    p.connect(drop, 0, native)
    shown = p.msg("", width=WIDTH)
    left.row(shown)
    p.connect(native, 0, shown, 1)
    left.row(p.comment("3. Then click the button to separate:", WIDTH))
    go = p.ui("button", 24, 24)
    left.row(go)
    rid = request_id_block(p, left, go, 0, "stems")
    values = p.obj("pack s s")
    left.row(values)
    p.connect(native, 0, values, 1)
    p.connect(rid, 0, values)
    body = p.msg("$1 audio $2")
    left.row(body)
    p.connect(values, 0, body)
    request = p.obj(f"prepend /dawhost/{SEPARATE_MODEL}/separate")
    left.row(request)
    p.connect(body, 0, request)
    p.connect(request, 0, link.send)
    left.space()
    current = status_block(p, link, left)
    p.connect(rid, 0, current, 1)

    middle.row(p.comment("4. Each stem loads into its buffer~ and plays; click start / stop.", 300))
    output = p.obj("zl slice 1")
    kind = p.obj("route stem")
    middle.row(output, kind)
    p.connect(link.replies, link.outlet("/dawhost/output"), output)
    p.connect(output, 1, kind)
    stem = p.obj("route " + " ".join(STEMS))
    middle.row(stem)
    p.connect(kind, 0, stem)
    dac = p.ui("ezdac~", 45, 45)
    gains = []
    for index, name in enumerate(STEMS):
        path = p.obj("zl slice 1")
        middle.row(path)
        p.connect(stem, index, path)
        load, player = audio_player(p, middle, f"dawhost.{name}", name)
        p.connect(path, 0, load)
        gain = p.obj("*~ 0.5")
        gains.append(gain)
        p.connect(player, 0, gain)
        p.connect(gain, 0, dac)
        p.connect(gain, 0, dac, 1)
        middle.space(6)
    middle.row(*gains)
    middle.row(dac)
    model_menu(p, link, request, right, "separate", SEPARATE_MODEL)
    return p


def transport_sender() -> Patcher:
    p = Patcher("dawhost: send Max's transport to dawhost")
    left, right = Flow(LEFT, 16, WIDTH), Flow(RIGHT, 16, WIDTH)
    title(
        p,
        left,
        "dawhost - transport sender",
        "Max's global transport drives dawhost's clock: starting it sends the tempo, time "
        "signature and position, then play; stopping sends stop; tempo changes follow.",
    )
    link = link_block(p, left, ["/dawhost/error", "/dawhost/transport"])
    left.row(
        p.comment(
            "2. Click the toggle to start/stop Max's transport (or use Extras > Global Transport).",
            WIDTH,
        )
    )
    run = p.ui("toggle", 24, 24)
    poll = p.obj("metro 50")
    start_polling = p.obj("loadmess 1")
    left.row(run, start_polling, poll)
    p.connect(start_polling, 0, poll)
    clock = p.obj("transport", width=300)
    left.row(clock)
    p.connect(run, 0, clock)
    p.connect(poll, 0, clock)
    left.row(p.comment("Tempo (BPM), sent whenever it changes:", WIDTH))
    tempo_changed = p.obj("change 0.")
    left.row(tempo_changed)
    p.connect(clock, 4, tempo_changed)
    tempo = p.msg("/dawhost/transport/tempo $1")
    left.row(tempo)
    p.connect(tempo_changed, 0, tempo)
    p.connect(tempo, 0, link.send)
    left.space()
    left.row(p.comment("Errors from the server (e.g. while its clock follows MIDI):", WIDTH))
    errors = p.msg("", width=WIDTH)
    left.row(errors)
    p.connect(link.replies, link.outlet("/dawhost/error"), errors, 1)
    left.row(
        p.comment(
            "The server's transport after each change (tempo, signature, playing, beat, bar:beat):",
            WIDTH,
        )
    )
    echoed = p.msg("", width=WIDTH)
    left.row(echoed)
    p.connect(link.replies, link.outlet("/dawhost/transport"), echoed, 1)

    right.row(
        p.comment(
            "Play and stop follow the state; on start the position (Max counts "
            "480 ticks per beat), signature and tempo go first.",
            WIDTH,
        )
    )
    state = p.obj("change")
    right.row(state)
    p.connect(clock, 6, state)
    which = p.obj("sel 1 0")
    right.row(which)
    p.connect(state, 0, which)
    on_start = p.obj("t b b")
    stop = p.msg("/dawhost/transport/stop")
    right.row(on_start, stop)
    p.connect(which, 0, on_start)
    p.connect(which, 1, stop)
    p.connect(stop, 0, link.send)
    right.row(
        p.comment(
            "Click to resend tempo, signature and position (e.g. after dawhost restarts):", 330
        )
    )
    sync = p.ui("button", 24, 24)
    right.row(sync)
    snapshot = p.obj("transport", width=300)
    right.row(snapshot)
    p.connect(on_start, 1, snapshot)
    p.connect(sync, 0, snapshot)
    beats = p.obj("/ 480.")
    right.row(beats)
    p.connect(snapshot, 7, beats)
    position = p.msg("/dawhost/transport/position $1")
    signature = p.msg("/dawhost/transport/signature $1 $2")
    right.row(position, signature)
    p.connect(beats, 0, position)
    p.connect(position, 0, link.send)
    p.connect(snapshot, 5, signature)
    p.connect(signature, 0, link.send)
    resend_tempo = p.msg("/dawhost/transport/tempo $1")
    play = p.msg("/dawhost/transport/play")
    right.row(resend_tempo, play)
    p.connect(snapshot, 4, resend_tempo)
    p.connect(resend_tempo, 0, link.send)
    p.connect(on_start, 0, play)
    p.connect(play, 0, link.send)
    return p


PATCHES = {
    "dawhost_overview.maxpat": overview,
    "dawhost_continue_midi.maxpat": continue_midi,
    "dawhost_render_audio.maxpat": render_audio,
    "dawhost_separate_stems.maxpat": separate_stems,
    "dawhost_transport.maxpat": transport_sender,
}


def main() -> None:
    for name, build in PATCHES.items():
        print(write(build(), name))


if __name__ == "__main__":
    main()
