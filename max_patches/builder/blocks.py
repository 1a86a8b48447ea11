"""Building blocks the dawhost patches share: the OSC link (with its reply-port registration),
request ids, the status area, the model menu, an audio player, timed notes into [noteout] and
an audio file dropped or recorded."""

from __future__ import annotations

from dataclasses import dataclass

from builder.patcher import REPLY_PORT, SEND_PORT, SERVER_HOST, Box, Flow, Patcher


@dataclass
class Link:
    """The OSC link of one patch: where to send, and the router of the server's replies."""

    send: Box
    replies: Box  # [route /dawhost/...]; outlets in the order of `routes`
    routes: list[str]

    def outlet(self, address: str) -> int:
        return self.routes.index(address)


# The replies a patch routes, in outlet order. Every patch hears the job's life (accepted,
# progress, output, done, error) and the model and option lists; a patch that plays notes also
# hears the timed note messages.
AUDIO_ROUTES = [
    "/dawhost/accepted",
    "/dawhost/progress",
    "/dawhost/output",
    "/dawhost/done",
    "/dawhost/error",
    "/dawhost/models",
    "/dawhost/option",
    "/dawhost/reply",
]
NOTE_ROUTES = [
    *AUDIO_ROUTES[:2],
    "/dawhost/noteon",
    "/dawhost/noteoff",
    "/dawhost/allnotesoff",
    "/dawhost/scheduled",
    "/dawhost/late",
    *AUDIO_ROUTES[2:],
]


REREGISTER_MS = 3000  # how often a patch re-sends /dawhost/reply (a restarted server forgets)


def link_block(p: Patcher, f: Flow, routes: list[str]) -> Link:
    """udpsend/udpreceive, reply-port registration on load and every few seconds after, and a
    reply router. `/dawhost/reply` is always routed (the server's confirmation)."""
    if "/dawhost/reply" not in routes:
        routes = [*routes, "/dawhost/reply"]
    f.row(
        p.comment(
            f"1. dawhost must be running (`dawhost serve`): requests go to UDP {SEND_PORT}. "
            f"Replies come back to port {REPLY_PORT}, which the patch registers when it opens "
            f"and again every {REREGISTER_MS // 1000} s (so a restarted server finds it). "
            "To open two patches at once, type another port into this number box in one of them.",
            f.width,
        )
    )
    port = p.ui("number", 60, 22, minimum=1, maximum=65535)
    load = p.obj(f"loadmess {REPLY_PORT}")
    f.row(port, load)
    p.connect(load, 0, port)
    fan = p.obj("t i i i")
    f.row(fan)
    p.connect(port, 0, fan)
    every = p.obj(f"metro {REREGISTER_MS}")
    start = p.obj("loadmess 1")
    remembered = p.obj("i")
    f.row(start, every, remembered)
    p.connect(start, 0, every)
    p.connect(every, 0, remembered)
    p.connect(fan, 2, remembered, 1)
    register = p.msg("/dawhost/reply $1")
    listen = p.msg("port $1")
    f.row(register, listen)
    p.connect(fan, 1, listen)
    p.connect(fan, 0, register)
    p.connect(remembered, 0, register)
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
    current = p.msg("", width=120)  # empty until a request is sent: clicking sends nothing
    cancel = p.obj("prepend /dawhost/cancel")
    f.row(current, cancel)
    p.connect(current, 0, cancel)
    p.connect(cancel, 0, link.send)
    f.space()
    return current


@dataclass
class Menu:
    """The model menu: its box, and the box that outputs the chosen model id."""

    menu: Box
    chosen: Box


def model_menu(
    p: Patcher,
    link: Link,
    request: Box,
    f: Flow,
    verb: str,
    capability: str,
    default: str,
) -> Menu:
    """A menu of the server's models that have `capability`, asked for once the server
    confirms the reply port (and on click); choosing one re-targets the request's address
    and asks for that model's option ranges (`/dawhost/<model>/options`)."""
    f.row(
        p.comment(
            f"Model: the menu lists the server's models that can {verb} ({capability}), "
            "filled as soon as the server answers (click the message to refresh).",
            f.width,
        )
    )
    ask = p.msg(f"/dawhost/models {capability}")
    first_answer = p.obj("change 0")
    f.row(ask, first_answer)
    p.connect(ask, 0, link.send)
    # The server confirms every registration; the first confirmation (a new port) asks.
    p.connect(link.replies, link.outlet("/dawhost/reply"), first_answer)
    p.connect(first_answer, 0, ask)
    mine = p.obj(f"route {capability}")  # the answer to this menu's question
    fill = p.obj("t b l b")
    f.row(mine, fill)
    p.connect(link.replies, link.outlet("/dawhost/models"), mine)
    p.connect(mine, 0, fill)
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
    choose_default = p.msg(f"symbol {default}")
    f.row(choose_default)
    p.connect(fill, 0, choose_default)
    menu = p.ui("umenu", 200, 22, items=[default])
    f.row(menu)
    for source in (clear, append, choose_default):
        p.connect(source, 0, menu)
    chosen = p.obj("t s s")
    f.row(chosen)
    p.connect(menu, 1, chosen)
    retarget = p.obj(f"sprintf set /dawhost/%s/{verb}")
    options = p.obj("sprintf /dawhost/%s/options")
    f.row(retarget, options)
    p.connect(chosen, 1, retarget)
    p.connect(chosen, 0, options)
    p.connect(retarget, 0, request)
    p.connect(options, 0, link.send)
    f.space()
    return Menu(menu, chosen)


def option_ranges(p: Patcher, link: Link, f: Flow, boxes: dict[str, Box]) -> None:
    """Sets each number box's range and value from the server's `/dawhost/option <model>
    <name> <type> <value> <min> <max>` replies (asked for when a model is chosen), so the
    bounds are the model's, never copies in the patch."""
    f.row(
        p.comment("Ranges and defaults of " + ", ".join(boxes) + " come from the server:", f.width)
    )
    drop_model = p.obj("zl slice 1")
    f.row(drop_model)
    p.connect(link.replies, link.outlet("/dawhost/option"), drop_model)
    which = p.obj("route " + " ".join(boxes))
    f.row(which)
    p.connect(drop_model, 1, which)
    for index, box in enumerate(boxes.values()):
        fields = p.obj("unpack s f f f")
        value = p.msg("set $1")
        low = p.msg("min $1")
        high = p.msg("max $1")
        f.row(fields, value, low, high)
        p.connect(which, index, fields)
        p.connect(fields, 1, value)
        p.connect(fields, 2, low)
        p.connect(fields, 3, high)
        for message in (value, low, high):
            p.connect(message, 0, box)
    f.space()


def transport_sync(p: Patcher, link: Link, f: Flow, period_ms: int = 250) -> Box:
    """Follows Max's [transport]: every `period_ms` its tempo, position (ticks / 480),
    state and signature go out as one `/dawhost/transport/sync`; the server applies only what
    differs. Returns the [transport] box (its left inlet starts and stops Max's transport)."""
    poll = p.obj(f"metro {period_ms}")
    start = p.obj("loadmess 1")
    f.row(start, poll)
    p.connect(start, 0, poll)
    clock = p.obj("transport", width=300)
    f.row(clock)
    p.connect(poll, 0, clock)
    beats = p.obj("/ 480.")
    signature = p.obj("unpack i i")
    f.row(beats, signature)
    p.connect(clock, 7, beats)
    p.connect(clock, 5, signature)
    # Max fires outlets right to left: ticks, state and signature reach the cold inlets
    # before the tempo (left, hot) sends the packed report.
    report = p.obj("pack f f i i i")
    f.row(report)
    p.connect(clock, 4, report)
    p.connect(beats, 0, report, 1)
    p.connect(clock, 6, report, 2)
    p.connect(signature, 0, report, 3)
    p.connect(signature, 1, report, 4)
    sync = p.msg("/dawhost/transport/sync $1 $2 $3 $4 $5")
    f.row(sync)
    p.connect(report, 0, sync)
    p.connect(sync, 0, link.send)
    f.space()
    return clock


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


def note_out(p: Patcher, link: Link, f: Flow) -> None:
    """/dawhost/noteon and /dawhost/noteoff into [noteout]; /dawhost/allnotesoff (a cancel or a
    transport stop) sends All Notes Off."""
    on = p.obj("unpack s i i")
    off = p.obj("unpack s i")
    f.row(on, off)
    p.connect(link.replies, link.outlet("/dawhost/noteon"), on)
    p.connect(link.replies, link.outlet("/dawhost/noteoff"), off)
    release = p.obj("t i b")
    silent = p.msg("0")
    f.row(release, silent)
    p.connect(off, 1, release)
    p.connect(release, 1, silent)
    out = p.obj("noteout")
    all_off = p.msg("0 123")
    controls = p.obj("ctlout")
    f.row(out, all_off, controls)
    p.connect(on, 2, out, 1)
    p.connect(on, 1, out)
    p.connect(silent, 0, out, 1)
    p.connect(release, 0, out)
    p.connect(link.replies, link.outlet("/dawhost/allnotesoff"), all_off)
    p.connect(all_off, 0, controls)


def dropped_file(p: Patcher, f: Flow, width: float, height: float) -> tuple[Box, Box]:
    """A [dropfile] area and the [conformpath] that turns what is dropped on it into a native
    path (the server reads files by their own OS's path); returns (dropfile, conformpath)."""
    drop = p.ui("dropfile", width, height, types=[])
    f.row(drop)
    native = p.obj("conformpath native boot")
    f.row(native)
    p.connect(drop, 0, native)
    return drop, native


TAKE_PATH = "/tmp/dawhost-take.wav"  # where a recorded take is written (edit it on Windows)
TAKE_BUFFER_MS = 30_000


def audio_source(p: Patcher, f: Flow, step: str) -> Box:
    """A dropped file or a take recorded from Max's audio input (adc~ -> record~ -> buffer~
    writewave); returns the box that sends its path (a symbol). `step` numbers the text."""
    f.row(p.comment(f"{step}. Drop an audio file (WAV, AIFF, FLAC, OGG) on this box:", WIDTH))
    _, native = dropped_file(p, f, 240, 50)
    f.row(
        p.comment(
            "... or record a take: click the toggle to record from Max's audio input (turn "
            "audio on), click it again to stop. The take is written to the path in the box "
            "(the server reads it there; edit it to a folder of yours) and becomes the file.",
            WIDTH,
        )
    )
    record = p.ui("toggle", 24, 24)
    order = p.obj("t i i")  # stop recording (right) before writing the file (left)
    f.row(record, order)
    p.connect(record, 0, order)
    mic = p.obj("adc~")
    recorder = p.obj("record~ dawhost.take")
    f.row(mic, recorder)
    p.connect(mic, 0, recorder)
    p.connect(order, 1, recorder)
    stopped = p.obj("sel 0")
    f.row(stopped)
    p.connect(order, 0, stopped)
    take = p.msg(f'"{TAKE_PATH}"', width=240)  # quoted: a path, not an OSC address
    f.row(take)
    p.connect(stopped, 0, take)
    written = p.obj("t s s")
    f.row(written)
    p.connect(take, 0, written)
    write = p.obj("prepend writewave")
    buffer = p.obj(f"buffer~ dawhost.take {TAKE_BUFFER_MS}")
    f.row(write, buffer)
    p.connect(written, 1, write)
    p.connect(write, 0, buffer)
    path = p.obj("t s")  # one outlet for both sources
    f.row(path)
    p.connect(native, 0, path)
    p.connect(written, 0, path)
    f.row(p.comment("The file the requests send:", WIDTH))
    shown = p.msg("", width=WIDTH)
    f.row(shown)
    p.connect(path, 0, shown, 1)
    f.space()
    return path


def request_block(
    p: Patcher, f: Flow, link: Link, label: str, prefix: str, pack: str, body: str, address: str
) -> tuple[Box, Box, Box]:
    """A button making ids `prefix1, prefix2...`, a [pack] of the values and the request's
    message; returns (pack, request prepend, id box)."""
    f.row(p.comment(label, WIDTH))
    go = p.ui("button", 24, 24)
    f.row(go)
    rid = request_id_block(p, f, go, 0, prefix)
    values = p.obj(pack)
    f.row(values)
    p.connect(rid, 0, values)
    message = p.msg(body, width=WIDTH)
    f.row(message)
    p.connect(values, 0, message)
    request = p.obj(f"prepend {address}")
    f.row(request)
    p.connect(message, 0, request)
    p.connect(request, 0, link.send)
    f.space()
    return values, request, rid
