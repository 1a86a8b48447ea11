"""dawhost_overview.maxpat: connect, ping, list the models, run a test request, see every reply."""

from __future__ import annotations

from builder.blocks import (
    ALL_REPLIES,
    LEFT,
    RIGHT,
    WIDTH,
    link_block,
    request_id_block,
    status_block,
    title,
)
from builder.patcher import Flow, Patcher

CONTINUE_MODEL = "music-transformer"


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
