"""dawhost_separate_stems.maxpat: drop a file, get four stems in buffer~ objects."""

from __future__ import annotations

from builder.blocks import (
    AUDIO_ROUTES,
    LEFT,
    RIGHT,
    WIDTH,
    audio_player,
    dropped_file,
    link_block,
    model_menu,
    request_id_block,
    status_block,
    title,
)
from builder.patcher import Flow, Patcher

SEPARATE_MODEL = "separation"
STEMS = ("vocals", "drums", "bass", "other")


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
    link = link_block(p, left, AUDIO_ROUTES[:6])  # no option list (link_block adds the reply)
    left.row(p.comment("2. Drop a WAV/AIFF/FLAC file here:", WIDTH))
    _, native = dropped_file(p, left, 240, 60)
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
    model_menu(p, link, request, right, "separate", "separate_stems", SEPARATE_MODEL)
    return p
