"""dawhost_render_audio.maxpat: render notes as audio with melnet (any render_audio model).

`wav_patch` is shared with the sing patch: a request that answers with a WAV path, loaded into
a [buffer~] and played, with the model menu and option ranges from the server.
"""

from __future__ import annotations

from builder.blocks import (
    AUDIO_ROUTES,
    LEFT,
    RIGHT,
    WIDTH,
    audio_player,
    link_block,
    model_menu,
    option_ranges,
    request_id_block,
    status_block,
    title,
)
from builder.patcher import Flow, Patcher

RENDER_MODEL = "melnet"


def wav_patch(
    name: str,
    intro: str,
    step: str,
    model: str,
    verb: str,
    capability: str,
    body: str,
    buffer: str,
    prefix: str,
) -> Patcher:
    """`body` is the request after the id, with `$2` for the bars number box."""
    p = Patcher(f"dawhost: {name}")
    left, right = Flow(LEFT, 16, WIDTH), Flow(RIGHT, 16, WIDTH)
    title(p, left, f"dawhost - {name}", intro)
    link = link_block(p, left, AUDIO_ROUTES)
    left.row(p.comment(step, WIDTH))
    bars = p.ui("number", 50, 22)  # range and default arrive from the server
    go = p.ui("button", 24, 24)
    left.row(bars, go)
    left.row(p.comment("bars", 62))
    rid = request_id_block(p, left, go, 0, prefix)
    values = p.obj("pack s 2")
    left.row(values)
    p.connect(rid, 0, values)
    p.connect(bars, 0, values, 1)
    message = p.msg(f"$1 {body}", width=WIDTH)
    left.row(message)
    p.connect(values, 0, message)
    request = p.obj(f"prepend /dawhost/{model}/{verb}")
    left.row(request)
    p.connect(message, 0, request)
    p.connect(request, 0, link.send)
    left.space()
    model_menu(p, link, request, left, verb, capability, model)
    option_ranges(p, link, left, {"bars": bars})

    right.row(
        p.comment(
            "The result is loaded, then played: click start / stop to hear it again. The "
            "WAV's path is below: drag it into Live's arrangement.",
            WIDTH,
        )
    )
    output = p.obj("zl slice 1")
    kind = p.obj("route audio")
    path = p.obj("unpack s s f")
    right.row(output, kind, path)
    p.connect(link.replies, link.outlet("/dawhost/output"), output)
    p.connect(output, 1, kind)
    p.connect(kind, 0, path)
    shown = p.msg("", width=WIDTH)
    right.row(shown)
    p.connect(path, 1, shown, 1)
    load, player = audio_player(p, right, buffer, "latest")
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
    return p


def render_audio() -> Patcher:
    return wav_patch(
        "render audio",
        "Renders notes as audio (melnet, or any model that can render): the WAV path that "
        "comes back is loaded into [buffer~ dawhost.render] and played. Double-click the "
        "buffer~ to see the waveform.",
        "2. Set the bars, edit the notes and instrument, then click the button.",
        RENDER_MODEL,
        "render",
        "render_audio",
        "notes 60 100 0 1 64 90 1 1 67 90 2 1 72 100 3 1 bars $2 instrument piano",
        "dawhost.render",
        "render",
    )
