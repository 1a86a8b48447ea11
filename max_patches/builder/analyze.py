"""dawhost_analyze.maxpat: drop or record audio, get its tempo, time signature and beats.

One request, `/dawhost/analyze/analyze <id> audio <path> apply_to_transport <0/1> meter <m>`.
The answer is `/dawhost/output <id> data analysis <json>`: the JSON goes into a [dict]
(`parse`), and [dict.unpack] shows the tempo (felt beats and quarter notes a minute), the
signature, how many beats were found and where the first downbeat is. *set Max's transport*
sends that tempo and signature to Max's own [transport]; `apply_to_transport` instead asks
dawhost to set its transport (every OSC and WebSocket client hears it, `/dawhost/transport`).
"""

from __future__ import annotations

from builder.blocks import (
    AUDIO_ROUTES,
    LEFT,
    RIGHT,
    WIDTH,
    audio_source,
    link_block,
    model_menu,
    request_block,
    status_block,
    title,
)
from builder.patcher import Flow, Patcher

ANALYZE_MODEL = "analyze"
METERS = ("auto", "3/4", "4/4", "6/8")
# Also the transport, which `apply_to_transport` changes.
ROUTES = [*AUDIO_ROUTES[:-1], "/dawhost/transport", "/dawhost/reply"]
SHOWN = ("tempo:", "quarter_tempo:", "signature:", "beats_seconds:", "downbeats_seconds:")


def analyze() -> Patcher:
    p = Patcher("dawhost: tempo, beats and time signature of a recording")
    left, right = Flow(LEFT, 16, WIDTH), Flow(RIGHT, 16, WIDTH)
    title(
        p,
        left,
        "dawhost - analyze",
        "Drop or record audio: dawhost finds its tempo, time signature (3/4, 4/4 or 6/8), "
        "beats and downbeats. Set Max's transport to what was found, or let dawhost set its "
        "own transport (apply to dawhost's transport).",
    )
    link = link_block(p, left, ROUTES)
    path = audio_source(p, left, "2")
    left.row(
        p.comment(
            "3. apply to dawhost's transport: dawhost sets its tempo and signature to what it "
            "found (a MIDI clock or Link driving it keeps priority). Meter: click auto to let "
            "it guess, or the signature you know.",
            WIDTH,
        )
    )
    apply = p.ui("toggle", 24, 24)
    meters = [p.msg(m) for m in METERS]
    left.row(apply, *meters)
    left.row(p.comment("apply to dawhost's transport", 200))
    chosen_meter = p.msg("auto", width=60)  # shows the meter the request sends
    left.row(p.comment("meter sent:", 80), chosen_meter)
    left.space()
    values, request, rid = request_block(
        p,
        left,
        link,
        "4. Click to analyze the file.",
        "an",
        "pack s s 0 auto",
        "$1 audio $2 apply_to_transport $3 meter $4",
        f"/dawhost/{ANALYZE_MODEL}/analyze",
    )
    p.connect(path, 0, values, 1)
    p.connect(apply, 0, values, 2)
    for box in meters:
        p.connect(box, 0, values, 3)
        p.connect(box, 0, chosen_meter, 1)

    right.row(p.comment("5. What was found (the last analysis):", WIDTH))
    output = p.obj("zl slice 1")  # drop the request id
    kind = p.obj("route data")
    right.row(output, kind)
    p.connect(link.replies, link.outlet("/dawhost/output"), output)
    p.connect(output, 1, kind)
    which = p.obj("route analysis transport")
    right.row(which)
    p.connect(kind, 0, which)
    parse = p.obj("prepend parse")
    found = p.obj("dict dawhost.analysis")
    right.row(parse, found)
    p.connect(which, 0, parse)
    p.connect(parse, 0, found)
    fields = p.obj("dict.unpack " + " ".join(SHOWN))
    right.row(fields)
    p.connect(found, 0, fields)
    tempo = p.ui("flonum", 70, 22)
    quarter_tempo = p.ui("flonum", 70, 22)
    signature = p.msg("", width=60)
    right.row(tempo, quarter_tempo, signature)
    right.row(
        p.comment("BPM (felt beat)", 100),
        p.comment("quarter notes/min", 110),
        p.comment("signature", 70),
    )
    p.connect(fields, 0, tempo)
    p.connect(fields, 1, quarter_tempo)
    p.connect(fields, 2, signature, 1)
    count = p.obj("zl len")
    first = p.obj("zl nth 1")
    right.row(count, first)
    p.connect(fields, 3, count)
    p.connect(fields, 4, first)
    beats = p.ui("number", 60, 22)
    downbeat = p.ui("flonum", 70, 22)
    right.row(beats, downbeat)
    right.row(p.comment("beats found", 100), p.comment("first downbeat (s)", 120))
    p.connect(count, 0, beats)
    p.connect(first, 0, downbeat)
    right.row(
        p.comment(
            "The whole analysis (beat and downbeat times in seconds and in beats) is in "
            "[dict dawhost.analysis]: double-click it, or read it with [dict.unpack].",
            WIDTH,
        )
    )
    right.space()

    right.row(p.comment("6. Set Max's transport to the tempo and signature found:", WIDTH))
    go = p.ui("button", 24, 24)
    order = p.obj("t b b b")  # denominator, then numerator (sends the pair), then the tempo
    right.row(go, order)
    p.connect(go, 0, order)
    split = p.obj("unpack i i")
    numerator = p.obj("i")
    denominator = p.obj("i")
    stored_tempo = p.obj("f")
    right.row(split, numerator, denominator, stored_tempo)
    p.connect(fields, 2, split)
    p.connect(split, 0, numerator, 1)
    p.connect(split, 1, denominator, 1)
    p.connect(fields, 1, stored_tempo, 1)  # Max's tempo counts quarter notes
    p.connect(order, 2, denominator)
    p.connect(order, 1, numerator)
    p.connect(order, 0, stored_tempo)
    pair = p.obj("pack i i")
    right.row(pair)
    p.connect(denominator, 0, pair, 1)
    p.connect(numerator, 0, pair)
    timesig = p.obj("prepend timesig")
    set_tempo = p.obj("prepend tempo")
    right.row(timesig, set_tempo)
    p.connect(pair, 0, timesig)
    p.connect(stored_tempo, 0, set_tempo)
    transport = p.obj("transport")
    right.row(transport)
    p.connect(timesig, 0, transport)
    p.connect(set_tempo, 0, transport)
    right.row(
        p.comment(
            "dawhost's transport (tempo, beat, playing, signature) after apply to dawhost's "
            "transport, and whether it was applied (applied, or why not):",
            WIDTH,
        )
    )
    dawhost_transport = p.msg("", width=WIDTH)
    right.row(dawhost_transport)
    p.connect(link.replies, link.outlet("/dawhost/transport"), dawhost_transport, 1)
    applied = p.msg("", width=WIDTH)
    right.row(applied)
    p.connect(which, 1, applied, 1)
    right.space()
    current = status_block(p, link, right)
    p.connect(rid, 0, current, 1)
    model_menu(p, link, request, right, "analyze", "analyze", ANALYZE_MODEL)
    return p
