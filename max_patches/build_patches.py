"""Writes the dawhost Max patches (.maxpat, Max 8/9 JSON) in this folder.

Run `python max_patches/build_patches.py` after editing; the .maxpat files are committed too, so
Max users never need Python. Only built-in Max objects are used. Every patch talks OSC to the
server on 127.0.0.1:9000 with [udpsend] and hears replies on [udpreceive 9001], after telling the
server that port with `/dawhost/reply 9001` when it opens.
"""

from __future__ import annotations

import json
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


@dataclass
class Box:
    id: str
    maxclass: str
    text: str
    rect: list[float]
    inlets: int
    outlets: list[str]
    extra: dict[str, Any] = field(default_factory=dict)

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
        if self.maxclass == "comment" and "\n" in self.text:
            box["linecount"] = self.text.count("\n") + 1
        box.update(self.extra)
        return {"box": box}


class Patcher:
    def __init__(self, title: str, size: tuple[int, int]) -> None:
        self.title = title
        self.size = size
        self.boxes: list[Box] = []
        self.lines: list[tuple[str, int, str, int]] = []

    def _add(
        self,
        maxclass: str,
        text: str,
        x: float,
        y: float,
        w: float,
        h: float,
        ports: tuple[int, list[str]],
        **extra: Any,
    ) -> Box:
        box = Box(
            f"obj-{len(self.boxes) + 1}",
            maxclass,
            text,
            [x, y, w, h],
            ports[0],
            list(ports[1]),
            extra,
        )
        self.boxes.append(box)
        return box

    def obj(self, text: str, x: float, y: float, w: float | None = None) -> Box:
        width = w or max(40.0, 7.0 * len(text) + 16)
        return self._add("newobj", text, x, y, width, 22.0, newobj_ports(text))

    def msg(self, text: str, x: float, y: float, w: float | None = None) -> Box:
        width = w or max(40.0, 7.0 * len(text) + 14)
        return self._add("message", text, x, y, width, 22.0, UI_PORTS["message"])

    def comment(self, text: str, x: float, y: float, w: float = 320.0, bold: bool = False) -> Box:
        lines = text.count("\n") + 1 + sum(len(line) // int(w / 6.5) for line in text.split("\n"))
        extra = {"fontface": 1} if bold else {}
        return self._add("comment", text, x, y, w, 6.0 + 14.0 * lines, UI_PORTS["comment"], **extra)

    def ui(self, maxclass: str, x: float, y: float, w: float, h: float, **extra: Any) -> Box:
        if maxclass in ("number", "flonum", "umenu", "slider", "toggle"):
            extra.setdefault("parameter_enable", 0)
        return self._add(maxclass, "", x, y, w, h, UI_PORTS[maxclass], **extra)

    def connect(self, source: Box, outlet: int, destination: Box, inlet: int = 0) -> None:
        if not 0 <= outlet < len(source.outlets):
            raise ValueError(f"{source.text or source.maxclass} has no outlet {outlet}")
        if not 0 <= inlet < destination.inlets:
            raise ValueError(f"{destination.text or destination.maxclass} has no inlet {inlet}")
        self.lines.append((source.id, outlet, destination.id, inlet))

    def json(self) -> dict[str, Any]:
        width, height = self.size
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
                "rect": [80.0, 80.0, float(width), float(height)],
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


# --- building blocks shared by the patches -------------------------------------------------


@dataclass
class Link:
    """The OSC link of one patch: where to send, and the router of the server's replies."""

    send: Box
    replies: Box  # [route /dawhost/...]; outlets in the order of `routes`
    routes: list[str]

    def outlet(self, address: str) -> int:
        return self.routes.index(address)


def link_block(p: Patcher, x: float, y: float, routes: list[str]) -> Link:
    """udpsend/udpreceive, reply-port registration on load, and a reply router."""
    p.comment(
        f"1. dawhost must be running (`dawhost serve`): requests go to UDP {SEND_PORT}.\n"
        f"Replies come back to port {REPLY_PORT}; the patch registers it on load.\n"
        "To open two patches at once, give this one another port below.",
        x,
        y,
        440,
    )
    port = p.ui("number", x, y + 58, 60, 22, minimum=1, maximum=65535)
    load = p.obj(f"loadmess {REPLY_PORT}", x + 80, y + 58)
    p.connect(load, 0, port)
    fan = p.obj("t i i", x, y + 88)
    p.connect(port, 0, fan)
    register = p.msg("/dawhost/reply $1", x, y + 118)
    listen = p.msg("port $1", x + 140, y + 118)
    p.connect(fan, 1, listen)
    p.connect(fan, 0, register)
    send = p.obj(f"udpsend {SERVER_HOST} {SEND_PORT}", x, y + 150)
    receive = p.obj(f"udpreceive {REPLY_PORT}", x + 180, y + 150)
    p.connect(register, 0, send)
    p.connect(listen, 0, receive)
    router = p.obj("route " + " ".join(routes), x + 180, y + 185)
    p.connect(receive, 0, router)
    unrouted = p.obj("print dawhost-other", x + 180, y + 215)
    p.connect(router, len(routes), unrouted)
    return Link(send, router, routes)


def request_id_block(p: Patcher, trigger: Box, outlet: int, x: float, y: float, prefix: str) -> Box:
    """A counter making request ids prefix1, prefix2, ... (symbols); returns the sprintf box."""
    count = p.obj("i 0", x, y)
    step = p.obj("+ 1", x + 50, y + 30)
    p.connect(trigger, outlet, count)
    p.connect(count, 0, step)
    p.connect(step, 0, count, 1)
    name = p.obj(f"sprintf symout {prefix}%ld", x, y + 60)
    p.connect(step, 0, name)
    return name


def status_block(p: Patcher, link: Link, x: float, y: float) -> Box:
    """Progress bar, status text, errors and the cancel button; returns the id message box."""
    p.comment("Progress of the running request:", x, y, 260)
    progress = p.obj("unpack s f s", x, y + 22)
    p.connect(link.replies, link.outlet("/dawhost/progress"), progress)
    scale = p.obj("* 100.", x + 90, y + 52)
    p.connect(progress, 1, scale)
    bar = p.ui("slider", x, y + 80, 240, 18, orientation=1, size=101.0, floatoutput=1)
    p.connect(scale, 0, bar)
    status = p.msg("", x, y + 104, 240)
    p.connect(progress, 2, status, 1)
    p.comment("Errors (code, message, field) appear here:", x, y + 134, 280)
    errors = p.msg("", x, y + 156, 440)
    p.connect(link.replies, link.outlet("/dawhost/error"), errors, 1)
    done = p.msg("", x, y + 186, 440)
    p.comment("Done: request id, seconds, outputs, provenance", x + 250, y + 104, 200)
    p.connect(link.replies, link.outlet("/dawhost/done"), done, 1)
    p.comment("Current request id - click it to cancel that request:", x, y + 216, 330)
    current = p.msg("none", x, y + 238, 120)
    cancel = p.obj("prepend /dawhost/cancel", x + 130, y + 238)
    p.connect(current, 0, cancel)
    p.connect(cancel, 0, link.send)
    return current


def model_menu(
    p: Patcher, link: Link, request: Box, x: float, y: float, verb: str, default: str
) -> None:
    """A menu of the server's models; choosing one re-targets the request's address."""
    p.comment(f"Model (filled from the server; pick one that can {verb}):", x, y, 360)
    ask = p.msg("/dawhost/models", x, y + 22)
    p.connect(ask, 0, link.send)
    opened = p.obj("loadbang", x + 120, y + 22)
    p.connect(opened, 0, ask)
    fill = p.obj("t b l b", x, y + 52)
    p.connect(link.replies, link.outlet("/dawhost/models"), fill)
    clear = p.msg("clear", x + 200, y + 82)
    p.connect(fill, 2, clear)
    ids = p.obj("zl slice 1", x + 80, y + 82)
    p.connect(fill, 1, ids)
    each = p.obj("zl iter 1", x + 80, y + 112)
    p.connect(ids, 1, each)
    append = p.obj("prepend append", x + 80, y + 142)
    p.connect(each, 0, append)
    choose_default = p.msg(f"setsymbol {default}", x, y + 172)
    p.connect(fill, 0, choose_default)
    menu = p.ui("umenu", x, y + 204, 200, 22, items=[default])
    for source in (clear, append, choose_default):
        p.connect(source, 0, menu)
    retarget = p.obj(f"sprintf set /dawhost/%s/{verb}", x, y + 234)
    p.connect(menu, 1, retarget)
    p.connect(retarget, 0, request)


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


def overview() -> Patcher:
    p = Patcher("dawhost overview: connect, list models, progress and errors", (1000, 720))
    p.comment("dawhost - overview", 20, 10, 300, bold=True)
    p.comment(
        "Lock the patch (Cmd/Ctrl+E) and click the message boxes.\n"
        "Every reply the server sends is shown on the right; anything else is printed "
        "to the Max console.",
        20,
        34,
        460,
    )
    link = link_block(p, 20, 80, ALL_REPLIES)

    p.comment("2. Click to check the connection: /dawhost/pong comes back.", 20, 330, 400)
    ping = p.msg("/dawhost/ping hello", 20, 352)
    p.connect(ping, 0, link.send)
    pong = p.msg("", 180, 352, 200)
    p.connect(link.replies, link.outlet("/dawhost/pong"), pong, 1)
    registered = p.msg("", 400, 352, 120)
    p.comment("reply port the server confirmed", 530, 352, 200)
    p.connect(link.replies, link.outlet("/dawhost/reply"), registered, 1)

    p.comment(
        "3. List the models: count and ids, then each model's description as JSON.", 20, 390, 460
    )
    models = p.msg("/dawhost/models", 20, 412)
    p.connect(models, 0, link.send)
    listing = p.msg("", 140, 412, 400)
    p.connect(link.replies, link.outlet("/dawhost/models"), listing, 1)
    described = p.msg("", 20, 442, 520)
    p.connect(link.replies, link.outlet("/dawhost/model"), described, 1)

    p.comment("4. Try a request: continue four notes with the music transformer.", 20, 480, 460)
    go = p.ui("button", 20, 502, 24, 24)
    rid = request_id_block(p, go, 0, 200, 502, "ov")
    body = p.msg("$1 primer 60 100 0 1 64 90 1 1 67 90 2 1 72 100 3 1 bars 1", 20, 592, 420)
    request = p.obj(f"prepend /dawhost/{CONTINUE_MODEL}/continue", 20, 622)
    p.connect(rid, 0, body)
    p.connect(body, 0, request)
    p.connect(request, 0, link.send)
    accepted = p.msg("", 20, 652, 300)
    p.comment("accepted: id, model, queue position", 330, 652, 220)
    p.connect(link.replies, link.outlet("/dawhost/accepted"), accepted, 1)

    current = status_block(p, link, 560, 330)
    p.connect(rid, 0, current, 1)

    p.comment(
        "Transport as the server sees it: tempo, signature, playing, beat, bar:beat", 560, 600, 420
    )
    ask = p.msg("/dawhost/transport", 560, 622)
    p.connect(ask, 0, link.send)
    clock = p.msg("", 700, 622, 280)
    p.connect(link.replies, link.outlet("/dawhost/transport"), clock, 1)
    notes = p.msg("", 560, 680, 300)
    p.comment("last note: id pitch velocity start duration", 870, 680, 120)
    p.connect(link.replies, link.outlet("/dawhost/note"), notes, 1)
    output = p.msg("", 560, 652, 420)
    p.connect(link.replies, link.outlet("/dawhost/output"), output, 1)
    return p


def continue_midi() -> Patcher:
    p = Patcher("dawhost: continue a MIDI phrase", (1000, 960))
    p.comment("dawhost - continue MIDI", 20, 10, 300, bold=True)
    p.comment(
        "Sends a phrase (pitch velocity start_beat duration_beat per note) and collects\n"
        "the continuation, note by note, into [coll dawhost.notes] and a MIDI output.",
        20,
        34,
        500,
    )
    link = link_block(
        p,
        20,
        80,
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
    p.comment(
        "2. Set the length and temperature, edit the primer notes in the message box\n"
        "(unlock to edit), then click the button to send.",
        20,
        330,
        480,
    )
    bars = p.ui("number", 20, 370, 50, 22, minimum=1, maximum=32)
    p.connect(p.obj("loadmess 4", 80, 370), 0, bars)
    p.comment("bars", 20, 394, 50)
    temperature = p.ui("flonum", 160, 370, 60, 22, minimum=0.1, maximum=2.0)
    p.connect(p.obj("loadmess 1.", 230, 370), 0, temperature)
    p.comment("temperature", 160, 394, 80)
    go = p.ui("button", 20, 420, 24, 24)
    fan = p.obj("t b b", 20, 450)
    p.connect(go, 0, fan)
    clear = p.msg("clear", 520, 420)
    reset = p.msg("0", 580, 420)
    p.connect(fan, 1, clear)
    p.connect(fan, 1, reset)
    rid = request_id_block(p, fan, 0, 20, 480, "mt")
    values = p.obj("pack s 4 1.", 20, 570)
    p.connect(rid, 0, values)
    p.connect(bars, 0, values, 1)
    p.connect(temperature, 0, values, 2)
    body = p.msg(
        "$1 primer 60 100 0 1 62 90 1 0.5 64 90 1.5 0.5 65 100 2 1 67 90 3 1 "
        "bars $2 temperature $3",
        20,
        600,
        480,
    )
    p.connect(values, 0, body)
    request = p.obj(f"prepend /dawhost/{CONTINUE_MODEL}/continue", 20, 632)
    p.connect(body, 0, request)
    p.connect(request, 0, link.send)
    model_menu(p, link, request, 280, 420, "continue", CONTINUE_MODEL)

    p.comment(
        "3. Notes arrive one by one: stored in the coll (double-click it to see them)\n"
        "and played on the default MIDI output.",
        520,
        480,
        460,
    )
    note = p.obj("zl slice 1", 520, 520)
    p.connect(link.replies, link.outlet("/dawhost/note"), note)
    order = p.obj("t b l", 520, 550)
    p.connect(note, 1, order)
    join = p.obj("zl join", 520, 610)
    p.connect(order, 1, join, 1)
    index = p.obj("i 0", 620, 580)
    step = p.obj("+ 1", 660, 580)
    p.connect(order, 0, index)
    p.connect(index, 0, step)
    p.connect(step, 0, index, 1)
    p.connect(reset, 0, index, 1)
    p.connect(step, 0, join)
    store = p.obj("coll dawhost.notes", 520, 640)
    p.connect(join, 0, store)
    p.connect(clear, 0, store)
    play = p.obj("unpack s i i f f", 720, 520)
    p.connect(link.replies, link.outlet("/dawhost/note"), play)
    make = p.obj("makenote 100 250", 720, 560)
    p.connect(play, 2, make, 1)
    p.connect(play, 1, make)
    out = p.obj("noteout", 720, 590)
    p.connect(make, 1, out, 1)
    p.connect(make, 0, out)
    p.comment(
        "Or let dawhost play them in time: its MIDI port `dawhost out` sends the\n"
        "continuation on the beat (see README).",
        720,
        620,
        260,
    )
    current = status_block(p, link, 20, 670)
    p.connect(rid, 0, current, 1)
    return p


def audio_player(p: Patcher, name: str, x: float, y: float, label: str) -> tuple[Box, Box]:
    """[prepend replace] -> buffer~ (plays when loaded) -> play~; returns (loader, player)."""
    load = p.obj("prepend replace", x, y)
    buffer = p.obj(f"buffer~ {name}", x, y + 30)
    p.connect(load, 0, buffer)
    start = p.msg("start", x, y + 60)
    stop = p.msg("stop", x + 50, y + 60)
    player = p.obj(f"play~ {name}", x, y + 90)
    p.connect(start, 0, player)
    p.connect(stop, 0, player)
    p.connect(buffer, 1, start)  # play as soon as the file is loaded
    p.comment(label, x + 100, y + 30, 200)
    return load, player


def render_audio() -> Patcher:
    p = Patcher("dawhost: render audio and vocal lines", (1000, 940))
    p.comment("dawhost - render audio and vocal lines", 20, 10, 360, bold=True)
    p.comment(
        "Both requests answer with a WAV path; it is loaded into [buffer~ dawhost.render]\n"
        "and played. Double-click the buffer~ to see the waveform.",
        20,
        34,
        520,
    )
    link = link_block(
        p,
        20,
        80,
        [
            "/dawhost/accepted",
            "/dawhost/progress",
            "/dawhost/output",
            "/dawhost/done",
            "/dawhost/error",
            "/dawhost/models",
        ],
    )

    p.comment(f"2a. Render notes as audio with {RENDER_MODEL}: bars, then click.", 20, 330, 440)
    bars = p.ui("number", 20, 352, 50, 22, minimum=1, maximum=16)
    p.connect(p.obj("loadmess 2", 80, 352), 0, bars)
    go = p.ui("button", 160, 352, 24, 24)
    rid = request_id_block(p, go, 0, 160, 382, "render")
    values = p.obj("pack s 2", 20, 472)
    p.connect(rid, 0, values)
    p.connect(bars, 0, values, 1)
    body = p.msg(
        "$1 notes 60 100 0 1 64 90 1 1 67 90 2 1 72 100 3 1 bars $2 instrument piano", 20, 502, 460
    )
    p.connect(values, 0, body)
    request = p.obj(f"prepend /dawhost/{RENDER_MODEL}/render", 20, 532)
    p.connect(body, 0, request)
    p.connect(request, 0, link.send)

    p.comment(
        f"2b. Sing lyrics on a melody with {SING_MODEL}: edit the words and notes.", 20, 572, 440
    )
    sing_bars = p.ui("number", 20, 594, 50, 22, minimum=1, maximum=32)
    p.connect(p.obj("loadmess 2", 80, 594), 0, sing_bars)
    sing = p.ui("button", 160, 594, 24, 24)
    sid = request_id_block(p, sing, 0, 160, 624, "sing")
    sing_values = p.obj("pack s 2", 20, 714)
    p.connect(sid, 0, sing_values)
    p.connect(sing_bars, 0, sing_values, 1)
    sing_body = p.msg(
        '$1 lyrics "hello there my friend" notes 67 100 0 1 69 100 1 1 '
        "71 100 2 1 72 100 3 2 bars $2 voice female",
        20,
        744,
        460,
    )
    p.connect(sing_values, 0, sing_body)
    sing_request = p.obj(f"prepend /dawhost/{SING_MODEL}/sing", 20, 774)
    p.connect(sing_body, 0, sing_request)
    p.connect(sing_request, 0, link.send)

    p.comment("3. The result: loaded, then played (click start / stop).", 520, 330, 400)
    output = p.obj("zl slice 1", 520, 352)
    p.connect(link.replies, link.outlet("/dawhost/output"), output)
    kind = p.obj("route audio", 520, 382)
    p.connect(output, 1, kind)
    path = p.obj("unpack s s f", 520, 412)
    p.connect(kind, 0, path)
    load, player = audio_player(p, "dawhost.render", 520, 442, "latest audio result")
    p.connect(path, 1, load)
    dac = p.ui("ezdac~", 520, 572, 45, 45)
    gain = p.obj("*~ 0.5", 520, 542)
    p.connect(player, 0, gain)
    p.connect(gain, 0, dac)
    p.connect(gain, 0, dac, 1)

    current = status_block(p, link, 520, 640)
    p.connect(rid, 0, current, 1)
    p.connect(sid, 0, current, 1)
    return p


def separate_stems() -> Patcher:
    p = Patcher("dawhost: separate a file into four stems", (1060, 960))
    p.comment("dawhost - separate stems", 20, 10, 300, bold=True)
    p.comment(
        "Drop an audio file on the box, click separate; vocals, drums, bass and other\n"
        "arrive as WAV paths and load into four buffer~ objects.\n"
        "The server reads only files in its work folder or in the folders listed as\n"
        "input_roots in its config: put your loops there.",
        20,
        34,
        520,
    )
    link = link_block(
        p,
        20,
        110,
        [
            "/dawhost/accepted",
            "/dawhost/progress",
            "/dawhost/output",
            "/dawhost/done",
            "/dawhost/error",
            "/dawhost/models",
        ],
    )
    p.comment("2. Drop a WAV/AIFF/FLAC file here:", 20, 360, 300)
    drop = p.ui("dropfile", 20, 382, 240, 60, types=[])
    native = p.obj("conformpath native boot", 20, 452)
    p.connect(drop, 0, native)
    shown = p.msg("", 20, 482, 440)
    p.connect(native, 0, shown, 1)
    values = p.obj("pack s s", 20, 572)
    p.connect(native, 0, values, 1)
    p.comment("3. Then click separate:", 280, 382, 160)
    go = p.ui("button", 280, 404, 24, 24)
    rid = request_id_block(p, go, 0, 280, 434, "stems")
    p.connect(rid, 0, values)
    body = p.msg("$1 audio $2", 20, 602)
    p.connect(values, 0, body)
    request = p.obj(f"prepend /dawhost/{SEPARATE_MODEL}/separate", 20, 632)
    p.connect(body, 0, request)
    p.connect(request, 0, link.send)
    model_menu(p, link, request, 780, 110, "separate", SEPARATE_MODEL)

    p.comment("4. Stems: each loads into its buffer~ and plays; click start/stop.", 520, 110, 420)
    output = p.obj("zl slice 1", 520, 132)
    p.connect(link.replies, link.outlet("/dawhost/output"), output)
    kind = p.obj("route stem", 520, 162)
    p.connect(output, 1, kind)
    stem = p.obj("route " + " ".join(STEMS), 520, 192)
    p.connect(kind, 0, stem)
    dac = p.ui("ezdac~", 900, 660, 45, 45)
    for index, name in enumerate(STEMS):
        y = 230 + 110 * index
        path = p.obj("zl slice 1", 520, y)
        p.connect(stem, index, path)
        load, player = audio_player(p, f"dawhost.{name}", 520, y + 26, name)
        p.connect(path, 0, load)
        gain = p.obj("*~ 0.5", 640, y + 116 - 24)
        p.connect(player, 0, gain)
        p.connect(gain, 0, dac)
        p.connect(gain, 0, dac, 1)
    current = status_block(p, link, 20, 680)
    p.connect(rid, 0, current, 1)
    return p


def transport_sender() -> Patcher:
    p = Patcher("dawhost: send Max's transport to dawhost", (900, 740))
    p.comment("dawhost - transport sender", 20, 10, 300, bold=True)
    p.comment(
        "Max's global transport drives dawhost's clock: starting it sends tempo, time\n"
        "signature, position, then play; stopping sends stop; tempo changes follow.\n"
        "Open Max's transport (Extras > Global Transport) or use the toggle.",
        20,
        34,
        520,
    )
    link = link_block(p, 20, 100, ["/dawhost/error", "/dawhost/transport"])
    p.comment(
        "2. Click the toggle to start/stop Max's transport (or use it anywhere in Max):",
        20,
        350,
        380,
    )
    run = p.ui("toggle", 20, 372, 24, 24)
    poll = p.obj("metro 50", 120, 402)
    p.connect(p.obj("loadmess 1", 120, 372), 0, poll)
    clock = p.obj("transport", 20, 442, 300)
    p.connect(run, 0, clock)
    p.connect(poll, 0, clock)

    p.comment("Tempo (BPM) whenever it changes:", 20, 482, 220)
    tempo_changed = p.obj("change 0.", 20, 504)
    p.connect(clock, 4, tempo_changed)
    tempo = p.msg("/dawhost/transport/tempo $1", 20, 534)
    p.connect(tempo_changed, 0, tempo)
    p.connect(tempo, 0, link.send)

    p.comment("Play / stop when the state changes (position and signature first):", 340, 482, 420)
    state = p.obj("change", 340, 504)
    p.connect(clock, 6, state)
    which = p.obj("sel 1 0", 340, 534)
    p.connect(state, 0, which)
    on_start = p.obj("t b b", 340, 564)
    p.connect(which, 0, on_start)
    stop = p.msg("/dawhost/transport/stop", 520, 564)
    p.connect(which, 1, stop)
    p.connect(stop, 0, link.send)
    snapshot = p.obj("transport", 340, 594, 300)
    p.connect(on_start, 1, snapshot)
    beats = p.obj("/ 480.", 340, 624)  # Max's transport counts 480 ticks per quarter note
    p.connect(snapshot, 7, beats)
    position = p.msg("/dawhost/transport/position $1", 340, 654)
    p.connect(beats, 0, position)
    p.connect(position, 0, link.send)
    signature = p.msg("/dawhost/transport/signature $1 $2", 560, 624)
    p.connect(snapshot, 5, signature)
    p.connect(signature, 0, link.send)
    play = p.msg("/dawhost/transport/play", 340, 684)
    p.connect(on_start, 0, play)
    p.connect(play, 0, link.send)
    p.comment(
        "Click to resend tempo, signature and position (e.g. after dawhost restarts).",
        600,
        350,
        280,
    )
    sync = p.ui("button", 600, 392, 24, 24)
    p.connect(sync, 0, snapshot)
    resend_tempo = p.msg("/dawhost/transport/tempo $1", 600, 684)
    p.connect(snapshot, 4, resend_tempo)
    p.connect(resend_tempo, 0, link.send)
    errors = p.msg("", 20, 600, 300)
    p.comment("errors from the server (e.g. the clock follows MIDI)", 20, 578, 300)
    p.connect(link.replies, link.outlet("/dawhost/error"), errors, 1)
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
