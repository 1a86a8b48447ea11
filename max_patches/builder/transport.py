"""dawhost_transport.maxpat: Max's transport drives dawhost's clock.

Four times a second the patch reports Max's [transport] (tempo, position, state, signature)
as one `/dawhost/transport/sync`; dawhost applies only what differs (the position when it is
more than 4 ms off) and echoes every change as `/dawhost/transport`.
"""

from __future__ import annotations

from builder.blocks import LEFT, RIGHT, WIDTH, link_block, title, transport_sync
from builder.patcher import Flow, Patcher


def transport_sender() -> Patcher:
    p = Patcher("dawhost: send Max's transport to dawhost")
    left, right = Flow(LEFT, 16, WIDTH), Flow(RIGHT, 16, WIDTH)
    title(
        p,
        left,
        "dawhost - transport sender",
        "Max's global transport drives dawhost's clock: tempo, position, play/stop and time "
        "signature are reported four times a second; dawhost follows what changed.",
    )
    link = link_block(p, left, ["/dawhost/error", "/dawhost/transport", "/dawhost/reply"])
    left.row(
        p.comment(
            "2. Click the toggle to start/stop Max's transport (or use Extras > Global Transport).",
            WIDTH,
        )
    )
    run = p.ui("toggle", 24, 24)
    left.row(run)
    clock = transport_sync(p, link, left)
    p.connect(run, 0, clock)
    left.row(p.comment("Errors from the server (e.g. while its clock follows MIDI):", WIDTH))
    errors = p.msg("", width=WIDTH)
    left.row(errors)
    p.connect(link.replies, link.outlet("/dawhost/error"), errors, 1)
    right.row(
        p.comment(
            "The server's transport after each change (tempo, signature, playing, beat, bar:beat):",
            WIDTH,
        )
    )
    echoed = p.msg("", width=WIDTH)
    right.row(echoed)
    p.connect(link.replies, link.outlet("/dawhost/transport"), echoed, 1)
    right.row(p.comment("Ask for it now:", WIDTH))
    ask = p.msg("/dawhost/transport")
    right.row(ask)
    p.connect(ask, 0, link.send)
    return p
