"""dawhost_transport.maxpat: Max's transport drives dawhost's clock."""

from __future__ import annotations

from builder.blocks import (
    LEFT,
    RIGHT,
    WIDTH,
    link_block,
    title,
)
from builder.patcher import Flow, Patcher


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
