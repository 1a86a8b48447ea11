"""dawhost_render_audio.maxpat: render notes as audio; sing lyrics on a melody."""

from __future__ import annotations

from builder.blocks import (
    LEFT,
    RIGHT,
    WIDTH,
    audio_player,
    link_block,
    request_id_block,
    status_block,
    title,
)
from builder.patcher import Flow, Patcher

RENDER_MODEL = "melnet"
SING_MODEL = "vocal-tts"


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
