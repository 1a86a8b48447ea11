"""The Max for Live devices, built from the same blocks as the patches:

- `dawhost Continue.amxd` (MIDI effect): passes the track's MIDI through and records what is
  played there, in Live's beats; Continue sends the phrase with `deliver timed`, and the answer
  plays out of the device from Live's next bar line (Live's transport drives dawhost's).
- `dawhost Render.amxd` (instrument): renders notes (melnet) or sings lyrics (vocal-tts); the
  WAV plays through the device and its path is shown, to drag into the arrangement.
- `dawhost Separate.amxd` (audio effect): passes the track's audio through; separates a dropped
  file into stems, played through the device, their paths shown to drag.
"""

from __future__ import annotations

from builder.blocks import (
    AUDIO_ROUTES,
    NOTE_ROUTES,
    Link,
    dropped_file,
    link_block,
    model_menu,
    note_out,
    option_ranges,
    request_id_block,
    status_block,
    transport_sync,
)
from builder.patcher import AUDIO_EFFECT, INSTRUMENT, MIDI_EFFECT, Box, Flow, Patcher
from builder.separate_stems import STEMS

MAX_RECORDED = 4096  # atoms kept of the played phrase (1024 notes)


def _label(p: Patcher, f: Flow, text: str, x: float, y: float, width: float = 90) -> None:
    label = p.comment(text, width)
    f.row(label)
    p.present(label, x, y)


def phrase_recorder(p: Patcher, f: Flow) -> tuple[Box, Box]:
    """Records the track's notes as `pitch velocity start_beat duration_beat` groups in
    Live's beats (Max's [transport] follows Live): a note-on stores its velocity and beat
    under its pitch, its note-off completes the group. Returns ([zl group], the clear message);
    a bang to the group outputs the phrase."""
    through_in = p.obj("midiin")
    through_out = p.obj("midiout")
    f.row(through_in, through_out)
    p.connect(through_in, 0, through_out)  # the track still hears what is played
    notes = p.obj("notein")
    pair = p.obj("pack i i")
    f.row(notes, pair)
    p.connect(notes, 1, pair, 1)
    p.connect(notes, 0, pair)
    stamp = p.obj("t l b")
    clock = p.obj("transport")
    beats = p.obj("/ 480.")
    f.row(stamp, clock, beats)
    p.connect(pair, 0, stamp)
    p.connect(stamp, 1, clock)
    p.connect(clock, 7, beats)
    split = p.obj("unpack i i")
    event = p.obj("pack i i f")
    f.row(split, event)
    p.connect(stamp, 0, split)
    p.connect(beats, 0, event, 2)
    p.connect(split, 1, event, 1)
    p.connect(split, 0, event)
    fan = p.obj("t l l")
    velocity = p.obj("zl nth 2")
    released = p.obj("== 0")
    outlet = p.obj("+ 1")
    f.row(fan, velocity, released, outlet)
    p.connect(event, 0, fan)
    p.connect(fan, 1, velocity)
    p.connect(velocity, 0, released)
    p.connect(released, 0, outlet)
    gate = p.obj("gate 2")
    onsets = p.obj("coll")
    f.row(gate, onsets)
    p.connect(outlet, 0, gate)
    p.connect(fan, 0, gate, 1)
    p.connect(gate, 0, onsets)  # "pitch velocity beat": stores "velocity beat" at pitch
    ended = p.obj("unpack i i f")
    end = p.obj("f")
    f.row(ended, end)
    p.connect(gate, 1, ended)
    p.connect(ended, 2, end, 1)
    order = p.obj("t i b i")
    f.row(order)
    p.connect(ended, 0, order)
    p.connect(order, 2, onsets)  # look the onset up
    started = p.obj("unpack i f")
    start = p.obj("t f f")
    length = p.obj("- 0.")
    f.row(started, start, length)
    p.connect(onsets, 0, started)
    p.connect(started, 1, start)
    p.connect(start, 1, length, 1)
    p.connect(order, 1, end)
    p.connect(end, 0, length)
    note = p.obj("pack i i f f")
    f.row(note)
    p.connect(start, 0, note, 2)
    p.connect(started, 0, note, 1)
    p.connect(length, 0, note, 3)
    p.connect(order, 0, note)
    phrase = p.obj(f"zl group {MAX_RECORDED}")
    clear = p.msg("zlclear")
    f.row(phrase, clear)
    p.connect(note, 0, phrase)
    p.connect(clear, 0, phrase)
    return phrase, clear


def _shown(p: Patcher, link: Link, f: Flow, address: str, x: float, y: float, w: float) -> Box:
    display = p.msg("", width=w)
    f.row(display)
    p.connect(link.replies, link.outlet(address), display, 1)
    return p.present(display, x, y)


def continue_device() -> Patcher:
    p = Patcher("dawhost Continue: answers what is played on this track, on Live's next bar")
    f = Flow(20, 16, 460)
    f.row(
        p.comment(
            "dawhost Continue (Max for Live MIDI effect). Start dawhost (`dawhost serve`), "
            "play a phrase on this track with Live playing, click continue: the answer "
            "plays from the next bar line, each note sent by dawhost at its time.",
            460,
        )
    )
    link = link_block(p, f, NOTE_ROUTES)
    transport_sync(p, link, f)  # in Live, [transport] is Live's transport
    phrase, clear = phrase_recorder(p, f)
    go = p.ui("button", 24, 24)
    forget = p.ui("button", 24, 24)
    f.row(go, forget)
    p.present(go, 8, 8)
    p.present(forget, 8, 40)
    _label(p, f, "continue", 36, 10)
    _label(p, f, "forget the phrase", 36, 42, 120)
    p.connect(forget, 0, clear)
    steps = p.obj("t b b b")
    f.row(steps)
    p.connect(go, 0, steps)
    p.connect(steps, 0, clear)  # last: start the next phrase afresh
    primer = p.obj("prepend primer")
    join = p.obj("zl join")
    f.row(primer, join)
    p.connect(steps, 2, phrase)  # first: the phrase into the join's cold inlet
    p.connect(phrase, 0, primer)
    p.connect(primer, 0, join, 1)
    rid = request_id_block(p, f, steps, 1, "live")
    bars = p.ui("number", 50, 22)  # range and default arrive from the server
    temperature = p.ui("flonum", 60, 22)
    latency = p.ui("flonum", 60, 22)
    f.row(bars, temperature, latency)
    for box, x in ((bars, 140), (temperature, 200), (latency, 270)):
        p.present(box, x, 24)
    _label(p, f, "bars", 140, 4, 50)
    _label(p, f, "temperature", 200, 4, 70)
    _label(p, f, "latency ms", 270, 4, 70)
    values = p.obj("pack s 4 1. 0.")
    f.row(values)
    p.connect(rid, 0, values)
    p.connect(bars, 0, values, 1)
    p.connect(temperature, 0, values, 2)
    p.connect(latency, 0, values, 3)
    body = p.msg("$1 bars $2 temperature $3 deliver timed latency_ms $4", width=460)
    f.row(body)
    p.connect(values, 0, body)
    p.connect(body, 0, join)
    request = p.obj("prepend /dawhost/music-transformer/continue")
    f.row(request)
    p.connect(join, 0, request)
    p.connect(request, 0, link.send)
    menu = model_menu(p, link, request, f, "continue", "continue_midi", "music-transformer")
    p.present(menu.menu, 140, 56, 200)
    option_ranges(p, link, f, {"bars": bars, "temperature": temperature})
    note_out(p, link, f)
    _shown(p, link, f, "/dawhost/scheduled", 350, 8, 200)
    _shown(p, link, f, "/dawhost/late", 350, 32, 200)
    _shown(p, link, f, "/dawhost/output", 350, 56, 200)  # the answer's MIDI file: drag it
    current = status_block(p, link, f)
    p.present(current, 8, 72, 120)
    p.connect(rid, 0, current, 1)
    return p


def _wav_section(
    p: Patcher,
    link: Link,
    f: Flow,
    x: float,
    label: str,
    model: str,
    verb: str,
    capability: str,
    body: str,
    prefix: str,
) -> Box:
    """One request (a button, bars, the request box, a model menu); returns its id box."""
    go = p.ui("button", 24, 24)
    bars = p.ui("number", 50, 22)
    f.row(go, bars)
    p.present(go, x, 8)
    p.present(bars, x + 30, 8)
    _label(p, f, label, x + 84, 10, 110)
    rid = request_id_block(p, f, go, 0, prefix)
    values = p.obj("pack s 2")
    f.row(values)
    p.connect(rid, 0, values)
    p.connect(bars, 0, values, 1)
    message = p.msg(f"$1 {body}", width=460)
    f.row(message)
    p.connect(values, 0, message)
    request = p.obj(f"prepend /dawhost/{model}/{verb}")
    f.row(request)
    p.connect(message, 0, request)
    p.connect(request, 0, link.send)
    menu = model_menu(p, link, request, f, verb, capability, model)
    p.present(menu.menu, x, 36, 180)
    option_ranges(p, link, f, {"bars": bars})
    return rid


def _player(p: Patcher, f: Flow, name: str, out: Box) -> Box:
    """[prepend replace] -> buffer~ (plays when loaded) -> play~ -> the device's output."""
    load = p.obj("prepend replace")
    buffer = p.obj(f"buffer~ {name}")
    f.row(load, buffer)
    p.connect(load, 0, buffer)
    start = p.msg("start")
    stop = p.msg("stop")
    player = p.obj(f"play~ {name}")
    f.row(start, stop, player)
    p.connect(start, 0, player)
    p.connect(stop, 0, player)
    p.connect(buffer, 1, start)
    p.connect(player, 0, out)
    p.connect(player, 0, out, 1)
    return load


def render_device() -> Patcher:
    p = Patcher("dawhost Render: notes or lyrics to a WAV on this track")
    f = Flow(20, 16, 460)
    f.row(
        p.comment(
            "dawhost Render (Max for Live instrument). Start dawhost (`dawhost serve`); click "
            "render (melnet) or sing (vocal-tts): the WAV plays through this device, and its "
            "path is shown: drag it from the file browser into the arrangement.",
            460,
        )
    )
    link = link_block(p, f, AUDIO_ROUTES)
    render = _wav_section(
        p,
        link,
        f,
        8,
        "render",
        "melnet",
        "render",
        "render_audio",
        "notes 60 100 0 1 64 90 1 1 67 90 2 1 72 100 3 1 bars $2 instrument piano",
        "render",
    )
    sing = _wav_section(
        p,
        link,
        f,
        200,
        "sing",
        "vocal-tts",
        "sing",
        "sing",
        'lyrics "hello there my friend" notes 67 100 0 1 69 100 1 1 71 100 2 1 72 100 3 1 '
        "74 100 4 2 bars $2 voice female",
        "sing",
    )
    output = p.obj("zl slice 1")
    kind = p.obj("route audio")
    path = p.obj("unpack s s f")
    f.row(output, kind, path)
    p.connect(link.replies, link.outlet("/dawhost/output"), output)
    p.connect(output, 1, kind)
    p.connect(kind, 0, path)
    shown = p.msg("", width=360)
    f.row(shown)
    p.connect(path, 1, shown, 1)
    p.present(shown, 8, 64, 380)
    out = p.obj("plugout~")
    f.row(out)
    load = _player(p, f, "---dawhost.render", out)  # ---: one buffer per device instance
    p.connect(path, 1, load)
    current = status_block(p, link, f)
    p.present(current, 8, 92, 120)
    p.connect(render, 0, current, 1)
    p.connect(sing, 0, current, 1)
    return p


def separate_device() -> Patcher:
    p = Patcher("dawhost Separate: a dropped file into stems on this track")
    f = Flow(20, 16, 460)
    f.row(
        p.comment(
            "dawhost Separate (Max for Live audio effect). Start dawhost (`dawhost serve`); "
            "the track's audio passes through. Drop a file on the box and click separate: "
            "the stems play through this device and their paths are shown, to drag.",
            460,
        )
    )
    link = link_block(p, f, AUDIO_ROUTES)
    source = p.obj("plugin~")
    out = p.obj("plugout~")
    f.row(source, out)
    p.connect(source, 0, out)
    p.connect(source, 1, out, 1)
    drop, native = dropped_file(p, f, 120, 40)
    p.present(drop, 8, 8)
    go = p.ui("button", 24, 24)
    f.row(go)
    p.present(go, 136, 8)
    _label(p, f, "separate", 164, 10, 80)
    rid = request_id_block(p, f, go, 0, "stems")
    values = p.obj("pack s s")
    f.row(values)
    p.connect(native, 0, values, 1)
    p.connect(rid, 0, values)
    body = p.msg("$1 audio $2")
    f.row(body)
    p.connect(values, 0, body)
    request = p.obj("prepend /dawhost/separation/separate")
    f.row(request)
    p.connect(body, 0, request)
    p.connect(request, 0, link.send)
    menu = model_menu(p, link, request, f, "separate", "separate_stems", "separation")
    p.present(menu.menu, 136, 36, 160)
    output = p.obj("zl slice 1")
    kind = p.obj("route stem")
    f.row(output, kind)
    p.connect(link.replies, link.outlet("/dawhost/output"), output)
    p.connect(output, 1, kind)
    stem = p.obj("route " + " ".join(STEMS))
    f.row(stem)
    p.connect(kind, 0, stem)
    for index, name in enumerate(STEMS):
        path = p.obj("zl slice 1")
        shown = p.msg("", width=300)
        f.row(path, shown)
        p.connect(stem, index, path)
        p.connect(path, 0, shown, 1)
        p.present(shown, 304, 8 + 22 * index, 300)
        load = _player(p, f, f"---dawhost.{name}", out)
        p.connect(path, 0, load)
    current = status_block(p, link, f)
    p.present(current, 8, 64, 120)
    p.connect(rid, 0, current, 1)
    return p


DEVICES = {
    "dawhost Continue.amxd": (continue_device, MIDI_EFFECT, 560.0),
    "dawhost Render.amxd": (render_device, INSTRUMENT, 400.0),
    "dawhost Separate.amxd": (separate_device, AUDIO_EFFECT, 620.0),
}
