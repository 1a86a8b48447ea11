"""dawhost_transcribe.maxpat: drop or record audio, get its notes back, or a continuation.

Two requests from one file: *transcribe* (`/dawhost/transcribe/transcribe`) plays what was
heard, and *continue* chains transcribe -> music-transformer in one request
(`primer_from transcribe`, see the server's README) and plays the continuation. Both ask for
`deliver timed`, so the notes arrive as `/dawhost/noteon` / `/dawhost/noteoff` on the beat and
go straight into [noteout]; the MIDI files come back as paths.
"""

from __future__ import annotations

from builder.blocks import (
    LEFT,
    NOTE_ROUTES,
    RIGHT,
    WIDTH,
    audio_source,
    link_block,
    model_menu,
    note_out,
    option_ranges,
    request_block,
    status_block,
    title,
)
from builder.patcher import Flow, Patcher

TRANSCRIBE_MODEL = "transcribe"
CONTINUE_MODEL = "music-transformer"


def transcribe() -> Patcher:
    p = Patcher("dawhost: audio to notes, and hum a phrase to get its continuation")
    left, right = Flow(LEFT, 16, WIDTH), Flow(RIGHT, 16, WIDTH)
    title(
        p,
        left,
        "dawhost - transcribe, or hum and continue",
        "Drop or record audio. transcribe plays the notes dawhost heard in it; continue "
        "transcribes it and continues the phrase with music-transformer in one request, "
        "and plays only the continuation. Notes play on Max's MIDI output from the next bar "
        "line of dawhost's transport (deliver timed); the MIDI files come back as paths.",
    )
    link = link_block(p, left, NOTE_ROUTES)
    path = audio_source(p, left, "2")
    left.row(
        p.comment(
            "3. monophonic: one note at a time (a voice, a hummed or whistled line); bars: "
            "how long the continuation is.",
            WIDTH,
        )
    )
    mono = p.ui("toggle", 24, 24)
    mono_on = p.obj("loadmess 1")
    bars = p.ui("number", 50, 22)  # range and default come from the server
    left.row(mono, mono_on, bars)
    p.connect(mono_on, 0, mono)
    left.row(p.comment("monophonic", 90), p.comment("bars", 60))
    left.space()
    heard, transcribe_request, heard_id = request_block(
        p,
        left,
        link,
        "4. Click to transcribe the file: its notes play back.",
        "tr",
        "pack s s 1",
        "$1 audio $2 monophonic $3 deliver timed",
        f"/dawhost/{TRANSCRIBE_MODEL}/transcribe",
    )
    answer, continue_request, answer_id = request_block(
        p,
        left,
        link,
        "5. Click to transcribe it and continue the phrase (one request): the continuation "
        "plays back (the style is picked from what was heard).",
        "hum",
        f"pack s s 1 4 {TRANSCRIBE_MODEL}",
        "$1 primer_from $5 audio $2 monophonic $3 bars $4 style auto deliver timed",
        f"/dawhost/{CONTINUE_MODEL}/continue",
    )
    for values in (heard, answer):
        p.connect(path, 0, values, 1)
        p.connect(mono, 0, values, 2)
    p.connect(bars, 0, answer, 3)

    right.row(
        p.comment(
            "6. Notes arrive on the beat and go to [noteout] (the default MIDI output); a "
            "cancel or a transport stop ends sounding notes.",
            WIDTH,
        )
    )
    note_out(p, link, right)
    right.row(p.comment("Where the notes start (id, notes placed, beat, bar:beat):", WIDTH))
    scheduled = p.msg("", width=WIDTH)
    right.row(scheduled)
    p.connect(link.replies, link.outlet("/dawhost/scheduled"), scheduled, 1)
    right.row(p.comment("Notes that came too late to play (never played late):", WIDTH))
    late = p.msg("", width=WIDTH)
    right.row(late)
    p.connect(link.replies, link.outlet("/dawhost/late"), late, 1)
    right.row(
        p.comment(
            "Outputs: the transcription's MIDI file (transcribe.midi in a chain) and the "
            "notes heard (transcribe.notes), the continuation's MIDI file and its style: "
            "drag a path into Live or open it.",
            WIDTH,
        )
    )
    output = p.msg("", width=WIDTH)
    right.row(output)
    p.connect(link.replies, link.outlet("/dawhost/output"), output, 1)
    right.space()
    current = status_block(p, link, right)
    p.connect(heard_id, 0, current, 1)
    p.connect(answer_id, 0, current, 1)
    menu = model_menu(
        p, link, transcribe_request, right, "transcribe", "transcribe", TRANSCRIBE_MODEL
    )
    p.connect(menu.chosen, 0, answer, 4)  # the chain's first step is the model picked here
    model_menu(p, link, continue_request, right, "continue", "continue_midi", CONTINUE_MODEL)
    option_ranges(p, link, right, {"bars": bars})
    return p
