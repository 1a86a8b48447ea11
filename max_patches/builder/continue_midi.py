"""dawhost_continue_midi.maxpat: send a phrase, get its continuation."""

from __future__ import annotations

from builder.blocks import (
    LEFT,
    RIGHT,
    WIDTH,
    link_block,
    model_menu,
    request_id_block,
    status_block,
    title,
)
from builder.patcher import Flow, Patcher

CONTINUE_MODEL = "music-transformer"


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
