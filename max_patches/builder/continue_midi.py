"""dawhost_continue_midi.maxpat: play a phrase's continuation in time with Max's transport.

The patch follows Max's [transport] (`/dawhost/transport/sync`), asks with `deliver timed`, and
plays `/dawhost/noteon` / `/dawhost/noteoff` straight into [noteout] as they arrive: dawhost
sends each at its place on the beat grid (the next bar line, `latency_ms` early).
"""

from __future__ import annotations

from builder.blocks import (
    LEFT,
    NOTE_ROUTES,
    RIGHT,
    WIDTH,
    link_block,
    model_menu,
    note_out,
    option_ranges,
    request_id_block,
    status_block,
    title,
    transport_sync,
)
from builder.patcher import Flow, Patcher

CONTINUE_MODEL = "music-transformer"
PRIMER = "60 100 0 1 62 90 1 0.5 64 90 1.5 0.5 65 100 2 1 67 90 3 1"


def continue_midi() -> Patcher:
    p = Patcher("dawhost: continue a MIDI phrase in time")
    left, right = Flow(LEFT, 16, WIDTH), Flow(RIGHT, 16, WIDTH)
    title(
        p,
        left,
        "dawhost - continue MIDI",
        "Sends a phrase (pitch velocity start_beat duration_beat per note); the continuation "
        "plays on Max's MIDI output on the next bar line of Max's transport, note by note, "
        "each sent by dawhost at its time (deliver timed).",
    )
    link = link_block(p, left, NOTE_ROUTES)
    left.row(
        p.comment(
            "2. Start Max's transport (this toggle, or Extras > Global Transport): dawhost "
            "follows its tempo, position and signature.",
            WIDTH,
        )
    )
    run = p.ui("toggle", 24, 24)
    left.row(run)
    clock = transport_sync(p, link, left)
    p.connect(run, 0, clock)
    left.row(
        p.comment(
            "3. Set bars, temperature and latency (ms early, for what plays the notes), edit "
            "the primer notes in the message box, then click the button.",
            WIDTH,
        )
    )
    # No ranges or defaults here: they arrive from the server when a model is chosen.
    bars = p.ui("number", 50, 22)
    temperature = p.ui("flonum", 60, 22)
    latency = p.ui("flonum", 60, 22)  # 0 ms unless typed (the server checks 0..1000)
    left.row(bars, temperature, latency)
    left.row(p.comment("bars", 62), p.comment("temperature", 140), p.comment("latency ms", 90))
    go = p.ui("button", 24, 24)
    left.row(go)
    rid = request_id_block(p, left, go, 0, "mt")
    values = p.obj("pack s 4 1. 0.")
    left.row(values)
    p.connect(rid, 0, values)
    p.connect(bars, 0, values, 1)
    p.connect(temperature, 0, values, 2)
    p.connect(latency, 0, values, 3)
    body = p.msg(
        f"$1 primer {PRIMER} bars $2 temperature $3 deliver timed latency_ms $4", width=WIDTH
    )
    left.row(body)
    p.connect(values, 0, body)
    request = p.obj(f"prepend /dawhost/{CONTINUE_MODEL}/continue")
    left.row(request)
    p.connect(body, 0, request)
    p.connect(request, 0, link.send)
    left.space()
    model_menu(p, link, request, left, "continue", "continue_midi", CONTINUE_MODEL)
    option_ranges(p, link, left, {"bars": bars, "temperature": temperature})

    right.row(
        p.comment(
            "4. Notes arrive on the beat: /dawhost/noteon and /dawhost/noteoff go straight "
            "to [noteout] (the default MIDI output). A cancel or a transport stop ends "
            "sounding notes (/dawhost/allnotesoff sends All Notes Off).",
            WIDTH,
        )
    )
    note_out(p, link, right)
    right.row(p.comment("Where the answer starts (id, notes placed, beat, bar:beat):", WIDTH))
    scheduled = p.msg("", width=WIDTH)
    right.row(scheduled)
    p.connect(link.replies, link.outlet("/dawhost/scheduled"), scheduled, 1)
    right.row(p.comment("Notes the model made too late to play (never played late):", WIDTH))
    late = p.msg("", width=WIDTH)
    right.row(late)
    p.connect(link.replies, link.outlet("/dawhost/late"), late, 1)
    right.row(
        p.comment(
            "The continuation as a MIDI file (at the primer's tempo): drag the path into "
            "Live or open it:",
            WIDTH,
        )
    )
    output = p.msg("", width=WIDTH)
    right.row(output)
    p.connect(link.replies, link.outlet("/dawhost/output"), output, 1)
    right.space()
    current = status_block(p, link, right)
    p.connect(rid, 0, current, 1)
    return p
