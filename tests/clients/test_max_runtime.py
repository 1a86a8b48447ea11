"""The Max patches run (in `max_runtime`, a small Max interpreter) against a real server: what a
person clicks goes out as OSC, and the replies land in the patch's displays, menus, buffers and
colls. Fake models stand in for the real ones, picked from each patch's model menu."""

from __future__ import annotations

import json
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from protocols.osc_wire import encode_message
from tests.clients.dawhost_server import DawhostServer, free_port
from tests.clients.max_patch import PATCH_FOLDER
from tests.clients.max_runtime import (
    Buffer,
    Display,
    Menu,
    MessageBox,
    NoteIn,
    Number,
    Recorder,
    Runtime,
    parse,
)


@pytest.fixture
def opened(dawhost_server: DawhostServer, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """A patch opened in the runtime, listening on a free reply port typed into its number box
    (as the README says to do when port 9001 is taken)."""
    runtime = Runtime(PATCH_FOLDER / request.param, dawhost_server.osc_port)
    try:
        runtime.open()
        (port_box,) = [n for n in runtime.all("number") if n.box["id"] in _port_boxes(runtime)]
        runtime.type_number(port_box, free_port())
        yield runtime
    finally:
        runtime.close()


def _port_boxes(runtime: Runtime) -> set[str]:
    (loader,) = [o for o in runtime.all("loadmess") if o.args == [9001]]
    return {o.box["id"] for o in runtime.fed_by(loader, 0, inlet=0)}


def reply_display(runtime: Runtime, address: str) -> MessageBox:
    """The message box that shows one routed reply address."""
    router = next(o for o in runtime.all("route") if address in o.args)
    (box,) = runtime.fed_by(router, router.args.index(address))
    assert isinstance(box, MessageBox)
    return box


@pytest.mark.parametrize("opened", ["dawhost_overview.maxpat"], indirect=True)
def test_overview_pings_and_lists_the_models(opened: Runtime) -> None:
    pong = reply_display(opened, "/dawhost/pong")
    opened.click(opened.message("/dawhost/ping"))
    opened.pump(lambda: pong.content == ["hello"])
    confirmed = reply_display(opened, "/dawhost/reply")
    assert confirmed.content == [opened.sent[-2][1]]  # the port typed into the number box

    listing = reply_display(opened, "/dawhost/models")
    described = reply_display(opened, "/dawhost/model")
    opened.click(opened.message("/dawhost/models"))
    opened.pump(lambda: bool(listing.content))
    count, *ids = listing.content
    assert count == len(ids) and "fake-echo" in ids
    model_id, text = described.content  # the last model's JSON description
    assert json.loads(text)["id"] == model_id == ids[-1]


def write_wav(path: Path) -> None:
    t = np.arange(4000) / 8000
    mix = 0.3 * np.sin(2 * np.pi * 100 * t) + 0.3 * np.sin(2 * np.pi * 3500 * t)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes((mix * 32767).astype("<i2").tobytes())


def pick(runtime: Runtime, model_id: str, capability_models: set[str]) -> Menu:
    """Wait for the model menu (filled once the server confirms the reply port), check it lists
    only the models with the patch's capability, and pick `model_id` as a person would."""
    (menu,) = runtime.all("umenu")
    assert isinstance(menu, Menu)
    runtime.pump(lambda: model_id in menu.items)
    assert set(menu.items) <= capability_models, menu.items
    menu.receive(0, ["symbol", model_id])
    return menu


def wait_for_ranges(runtime: Runtime, model_id: str) -> None:
    """The option replies asked for when the model was picked have reached the patch."""
    asked = ["/dawhost/" + model_id + "/options"]
    assert asked in runtime.sent
    (router,) = [o for o in runtime.all("route") if "/dawhost/option" in o.args]
    seen: list[Any] = []
    original = router.receive

    def spy(inlet: int, message: list[Any]) -> None:
        seen.append(message)
        original(inlet, message)

    router.receive = spy  # type: ignore[method-assign]
    try:
        runtime.pump(lambda: any(m[:2] == ["/dawhost/options", model_id] for m in seen))
    finally:
        router.receive = original  # type: ignore[method-assign]


@pytest.mark.parametrize("opened", ["dawhost_separate_stems.maxpat"], indirect=True)
def test_separate_patch_drops_a_file_and_loads_four_stem_buffers(
    opened: Runtime, dawhost_server: DawhostServer
) -> None:
    # Only models that can separate are offered (not fake-echo, not melnet).
    pick(opened, "fake-stems", {"fake-stems", "separation"})
    source = dawhost_server.work_dir / "max-drop.wav"
    write_wav(source)
    (drop,) = opened.all("dropfile")
    opened.drop(drop, str(source))
    (button,) = opened.all("button")
    opened.click(button)
    done = reply_display(opened, "/dawhost/done")
    opened.pump(lambda: bool(done.content))

    assert opened.sent[-1][:4] == ["/dawhost/fake-stems/separate", "stems1", "audio", str(source)]
    buffers = {o.args[0]: o for o in opened.all("buffer~") if isinstance(o, Buffer)}
    assert set(buffers) == {f"dawhost.{s}" for s in ("vocals", "drums", "bass", "other")}
    for name, buffer in buffers.items():
        assert buffer.path and Path(buffer.path).name.startswith(name.split(".")[1])
        assert buffer.frames == 4000
    players = [o for o in opened.all("play~") if isinstance(o, Recorder)]
    assert all((0, ["start"]) in p.received for p in players) and len(players) == 4
    (bar,) = opened.all("slider")
    assert isinstance(bar, Display) and bar.value == [100.0]
    assert reply_display(opened, "/dawhost/error").content == []
    assert done.content[0] == "stems1" and done.content[2] == 1


@pytest.mark.parametrize("opened", ["dawhost_continue_midi.maxpat"], indirect=True)
def test_continue_patch_plays_the_answer_on_max_transport_and_cancels(
    opened: Runtime, dawhost_server: DawhostServer
) -> None:
    pick(
        opened, "fake-echo", {"fake-echo", "fake-variations", "fake-bars-echo", "music-transformer"}
    )
    wait_for_ranges(opened, "fake-echo")
    (button,) = opened.all("button")
    errors = reply_display(opened, "/dawhost/error")
    # The empty cancel box sends nothing (it used to send /dawhost/cancel none).
    (cancel,) = [o for o in opened.all("prepend") if o.args == ["/dawhost/cancel"]]
    (current,) = [o for o in opened.objects.values() if cancel in opened.fed_by(o, 0, inlet=0)]
    before = len(opened.sent)
    opened.click(current)
    assert len(opened.sent) == before

    # The fake has no `bars` option: the server's error lands in the error box, by name.
    opened.click(button)
    opened.pump(lambda: bool(errors.content))
    request_id, code, message, field = errors.content
    assert (request_id, code, field) == ("mt1", "unknown_option", "bars") and "bars" in message

    # Max's transport runs at 600 BPM, so the answer's bar line comes soon; the patch reports it.
    (toggle,) = opened.all("toggle")
    opened.clock.update(tempo=600.0, signature=(4, 4), ticks=0.0)
    opened.type_number(toggle, 1)
    opened.tick(250)
    assert opened.sent[-1] == ["/dawhost/transport/sync", 600.0, 0.0, 1, 4, 4]
    try:
        # A person edits the request box to drop `bars` and sends a long note, then cancels.
        body = opened.message("$1 primer")
        body.content = parse("$1 primer 60 100 0 1 64 90 1 64 deliver timed latency_ms $4")
        (temperature, latency) = [o for o in opened.all("flonum") if isinstance(o, Number)]
        opened.type_number(latency, 5.0)
        opened.click(button)
        assert opened.sent[-1][:2] == ["/dawhost/fake-echo/continue", "mt2"]
        assert opened.sent[-1][-4:] == ["deliver", "timed", "latency_ms", 5.0]
        (noteout,) = opened.all("noteout")
        assert isinstance(noteout, Recorder)
        opened.pump(lambda: len([m for i, m in noteout.received if i == 0]) >= 3, timeout=15)
        # 60 on, 60 off, 64 on: each pitch after its velocity (right to left), offs with 0.
        assert noteout.received[:6] == [
            (1, [100]),
            (0, [60]),
            (1, [0]),
            (0, [60]),
            (1, [90]),
            (0, [64]),
        ]
        scheduled = reply_display(opened, "/dawhost/scheduled")
        assert scheduled.content[0] == "mt2" and scheduled.content[2] % 4 == 0  # a bar line
        assert isinstance(current, MessageBox) and current.content == ["mt2"]
        opened.click(current)  # cancel: the sounding 64 ends, then All Notes Off
        assert opened.sent[-1] == ["/dawhost/cancel", "mt2"]
        (controls,) = opened.all("ctlout")
        assert isinstance(controls, Recorder)
        opened.pump(lambda: (0, [0, 123]) in controls.received)
        assert (0, [64]) == noteout.received[-1] and (1, [0]) == noteout.received[-2]
    finally:
        opened.type_number(toggle, 0)
        opened.tick(250)
        for address, args in (("/dawhost/transport/tempo", [120.0]),):
            opened.socket.sendto(encode_message(address, args), opened.server)


@pytest.mark.parametrize("opened", ["dawhost_continue_midi.maxpat"], indirect=True)
def test_the_patch_re_registers_its_reply_port_every_few_seconds(opened: Runtime) -> None:
    (port,) = [m[1] for m in opened.sent if m[0] == "/dawhost/reply"][-1:]
    # The server's confirmation of the port asks for the model list (no click needed).
    (menu,) = opened.all("umenu")
    assert isinstance(menu, Menu)
    opened.pump(lambda: "fake-echo" in menu.items)
    assert ["/dawhost/models", "continue_midi"] in opened.sent
    before = len(opened.sent)
    opened.tick(3000)  # a server that restarted since hears the port again
    assert opened.sent[before:] == [["/dawhost/reply", port]]


@pytest.mark.parametrize("opened", ["dawhost_transport.maxpat"], indirect=True)
def test_transport_patch_drives_the_server_clock(
    opened: Runtime, dawhost_server: DawhostServer
) -> None:
    def server(node: str) -> list[Any]:
        return dawhost_server.oscquery(f"/dawhost/transport/{node}?VALUE")["VALUE"]

    (toggle,) = opened.all("toggle")
    opened.clock.update(tempo=100.0, signature=(3, 4), ticks=960.0)
    try:
        opened.type_number(toggle, 1)  # Max's transport starts
        opened.tick(250)
        assert opened.sent[-1] == ["/dawhost/transport/sync", 100.0, 2.0, 1, 3, 4]
        opened.pump(lambda: server("playing") == [True], timeout=5)
        assert server("tempo") == [100.0] and server("signature") == [3, 4]
        assert 2.0 <= server("position")[0] < 4.0  # 960 ticks = beat 2, and it is running
        echoed = reply_display(opened, "/dawhost/transport")
        opened.pump(lambda: echoed.content[:4] == [100.0, 3, 4, 1])

        opened.clock["tempo"] = 90.0  # a tempo change while playing follows at the next poll
        opened.tick(250)
        assert opened.sent[-1][:2] == ["/dawhost/transport/sync", 90.0]
        opened.pump(lambda: server("tempo") == [90.0], timeout=5)
        opened.type_number(toggle, 0)
        opened.tick(250)
        assert opened.sent[-1][3] == 0
        opened.pump(lambda: server("playing") == [False], timeout=5)
    finally:
        resets: list[tuple[str, list[Any]]] = [
            ("/dawhost/transport/stop", []),
            ("/dawhost/transport/tempo", [120.0]),
            ("/dawhost/transport/signature", [4, 4]),
            ("/dawhost/transport/position", [0.0]),
        ]
        for address, args in resets:
            opened.socket.sendto(encode_message(address, args), opened.server)


@pytest.mark.parametrize("opened", ["dawhost_render_audio.maxpat"], indirect=True)
def test_render_patch_loads_the_rendered_wav_into_its_buffer_and_plays_it(
    opened: Runtime,
) -> None:
    pick(
        opened,
        "fake-sine",
        {"fake-sine", "fake-slow", "fake-failing", "fake-quiet", "melnet", "wavenet-texture"},
    )
    wait_for_ranges(opened, "fake-sine")
    bars = next(n for n in opened.all("number") if n.box["id"] not in _port_boxes(opened))
    assert isinstance(bars, Number) and bars.value == 1 and bars.max == 8  # fake-sine's schema
    opened.type_number(bars, 30)  # clipped to the model's range, as Max's number box does
    assert bars.value == 8
    opened.type_number(bars, 3)
    # The request box names melnet's instrument: a person edits it for the fake.
    opened.message("$1 notes").content = parse("$1 notes 69 100 0 2 bars $2")
    render_button = opened.all("button")[0]
    done = reply_display(opened, "/dawhost/done")
    opened.click(render_button)
    opened.pump(lambda: bool(done.content))

    assert opened.sent[-1][:2] == ["/dawhost/fake-sine/render", "render1"]
    assert opened.sent[-1][-2:] == ["bars", 3]
    (buffer,) = opened.all("buffer~")
    assert isinstance(buffer, Buffer) and buffer.path and buffer.path.endswith(".wav")
    assert buffer.frames == 3 * 4 * 8000 // 2  # 3 bars of 4 beats at 120 BPM, 8 kHz
    (player,) = opened.all("play~")
    assert isinstance(player, Recorder) and (0, ["start"]) in player.received


@pytest.mark.parametrize("opened", ["dawhost_sing.maxpat"], indirect=True)
def test_sing_patch_sings_one_syllable_per_note(opened: Runtime) -> None:
    pick(opened, "fake-singer", {"fake-singer", "vocal-tts"})
    body = opened.message("$1 lyrics")
    lyrics = body.content[body.content.index("lyrics") + 1]
    notes = body.content[body.content.index("notes") + 1 : body.content.index("bars")]
    assert len(notes) == 4 * 5 and lyrics == "hello there my friend"  # 5 syllables, 5 notes
    # The fake hums a word per note, has no bars option and sings alto: a person edits it.
    body.content = [a for a in body.content if a not in ("bars", "$2", "female")]
    body.content[body.content.index("voice") + 1 :] = ["alto"]
    done = reply_display(opened, "/dawhost/done")
    errors = reply_display(opened, "/dawhost/error")
    opened.click(opened.all("button")[0])
    opened.pump(lambda: bool(done.content or errors.content))
    assert errors.content == []
    assert opened.sent[-1][:2] == ["/dawhost/fake-singer/sing", "sing1"]
    (buffer,) = opened.all("buffer~")
    assert isinstance(buffer, Buffer) and buffer.args == ["dawhost.sing"] and buffer.frames > 0


@pytest.mark.parametrize("opened", ["../devices/dawhost Continue.amxd"], indirect=True)
def test_continue_device_records_the_track_and_answers_on_lives_grid(opened: Runtime) -> None:
    pick(
        opened, "fake-echo", {"fake-echo", "fake-variations", "fake-bars-echo", "music-transformer"}
    )
    wait_for_ranges(opened, "fake-echo")
    # Live plays at 600 BPM (the device's [transport] is Live's): it reports it to dawhost.
    opened.clock.update(state=1, tempo=600.0, signature=(4, 4), ticks=0.0)
    opened.tick(250)
    assert opened.sent[-1] == ["/dawhost/transport/sync", 600.0, 0.0, 1, 4, 4]
    try:
        (notes,) = opened.all("notein")
        assert isinstance(notes, NoteIn)
        for ticks, pitch, velocity in (
            (960, 60, 100),
            (1200, 60, 0),
            (1200, 64, 90),
            (1680, 64, 0),
        ):
            opened.clock["ticks"] = float(ticks)  # Live's position, 480 ticks a beat
            notes.play(pitch, velocity)
        # fake-echo has no bars option: a person drops it from the request box.
        opened.message("$1 bars").content = parse("$1 deliver timed latency_ms $4")
        continue_button = opened.all("button")[0]
        opened.click(continue_button)
        assert opened.sent[-1] == [
            "/dawhost/fake-echo/continue",
            "live1",
            "deliver",
            "timed",
            "latency_ms",
            0.0,
            "primer",
            60,
            100,
            2.0,
            0.5,
            64,
            90,
            2.5,
            1.0,
        ]
        (noteout,) = opened.all("noteout")
        assert isinstance(noteout, Recorder)
        opened.pump(
            lambda: [m for i, m in noteout.received if i == 0] == [[60], [60], [64], [64]],
            timeout=15,
        )
        scheduled = reply_display(opened, "/dawhost/scheduled")
        assert scheduled.content[0] == "live1" and scheduled.content[2] % 4 == 0
        # The phrase was forgotten after sending: a second click sends no notes of its own.
        (phrase,) = [o for o in opened.all("zl") if o.args[0] == "group"]
        assert phrase.stored == []
    finally:
        opened.socket.sendto(encode_message("/dawhost/transport/stop", []), opened.server)
        opened.socket.sendto(encode_message("/dawhost/transport/tempo", [120.0]), opened.server)


@pytest.mark.parametrize("opened", ["../devices/dawhost Render.amxd"], indirect=True)
def test_render_device_plays_the_wav_through_the_device_and_shows_its_path(
    opened: Runtime,
) -> None:
    render_menu, sing_menu = opened.all("umenu")
    assert isinstance(render_menu, Menu) and isinstance(sing_menu, Menu)
    opened.pump(lambda: "fake-sine" in render_menu.items and "fake-singer" in sing_menu.items)
    assert "fake-singer" not in render_menu.items and "fake-sine" not in sing_menu.items
    render_menu.receive(0, ["symbol", "fake-sine"])
    opened.message("$1 notes").content = parse("$1 notes 69 100 0 2 bars $2")
    bars = [n for n in opened.all("number") if n.box["id"] not in _port_boxes(opened)][0]
    wait_for_ranges(opened, "fake-sine")
    opened.type_number(bars, 2)
    done = reply_display(opened, "/dawhost/done")
    opened.click(opened.all("button")[0])
    opened.pump(lambda: bool(done.content))
    (buffer,) = opened.all("buffer~")
    assert isinstance(buffer, Buffer) and buffer.frames == 2 * 4 * 8000 // 2
    (player,) = opened.all("play~")
    assert isinstance(player, Recorder) and (0, ["start"]) in player.received
    shown = [
        o for o in opened.all("message") if isinstance(o, MessageBox) and o.content == [buffer.path]
    ]
    assert shown  # the path a person drags into the arrangement


@pytest.mark.parametrize("opened", ["../devices/dawhost Separate.amxd"], indirect=True)
def test_separate_device_offers_only_separating_models_and_loads_the_stems(
    opened: Runtime, dawhost_server: DawhostServer
) -> None:
    pick(opened, "fake-stems", {"fake-stems", "separation"})
    source = dawhost_server.work_dir / "device-drop.wav"
    write_wav(source)
    (drop,) = opened.all("dropfile")
    opened.drop(drop, str(source))
    done = reply_display(opened, "/dawhost/done")
    opened.click(opened.all("button")[0])
    opened.pump(lambda: bool(done.content))
    buffers = [o for o in opened.all("buffer~") if isinstance(o, Buffer)]
    assert len(buffers) == 4 and all(b.frames == 4000 for b in buffers)


def _menu_offering(runtime: Runtime, model_id: str) -> Menu:
    """The model menu (of several) whose list, filled by the server, has `model_id`."""
    menus = [m for m in runtime.all("umenu") if isinstance(m, Menu)]
    runtime.pump(lambda: any(model_id in m.items for m in menus))
    (menu,) = [m for m in menus if model_id in m.items]
    return menu


def _button_making(runtime: Runtime, prefix: str) -> Any:
    """The button whose request ids are prefix1, prefix2, ... (button -> i -> + 1 -> sprintf)."""
    for button in runtime.all("button"):
        for count in runtime.fed_by(button, 0, inlet=0):
            for step in runtime.fed_by(count, 0, inlet=0):
                names = [s.box["text"] for s in runtime.fed_by(step, 0, inlet=0)]
                if f"sprintf symout {prefix}%ld" in names:
                    return button
    raise AssertionError(f"no button makes {prefix} ids")


def _notes_played(runtime: Runtime) -> list[int]:
    """Pitches [noteout] got with a velocity above 0 (velocity arrives first, right inlet)."""
    (out,) = [o for o in runtime.all("noteout") if isinstance(o, Recorder)]
    pitches, velocity = [], 0
    for inlet, message in out.received:
        if inlet == 1:
            velocity = message[0]
        elif inlet == 0 and velocity > 0:
            pitches.append(message[0])
    return pitches


@pytest.mark.parametrize("opened", ["dawhost_transcribe.maxpat"], indirect=True)
def test_transcribe_patch_records_a_take_and_plays_its_notes_then_its_continuation(
    opened: Runtime, dawhost_server: DawhostServer
) -> None:
    from tests.fakes import write_tones

    transcriber = _menu_offering(opened, "fake-transcribe")
    assert "fake-echo" not in transcriber.items  # only models that transcribe
    transcriber.receive(0, ["symbol", "fake-transcribe"])
    continuer = _menu_offering(opened, "fake-bars-echo")
    continuer.receive(0, ["symbol", "fake-bars-echo"])
    # Record a take: the "microphone" plays C, E, G, one beat each at the server's 120 BPM.
    mic = write_tones(dawhost_server.work_dir / "mic.wav", [60, 64, 67])
    samples, rate = soundfile.read(mic)
    opened.microphone = (samples, rate)
    take = dawhost_server.work_dir / "max-take.wav"
    (path_box,) = [o for o in opened.all("message") if o.content == ["/tmp/dawhost-take.wav"]]
    path_box.receive(1, [str(take)])  # the person types a path of theirs into the box
    (record,) = [
        t
        for t in opened.all("toggle")
        if any(o.box["text"] == "t i i" for o in opened.fed_by(t, 0, inlet=0))
    ]
    record.receive(0, [1])
    record.receive(0, [0])
    assert take.is_file() and soundfile.info(take).frames == len(samples)

    done = reply_display(opened, "/dawhost/done")
    opened.click(_button_making(opened, "tr"))
    opened.pump(lambda: len(_notes_played(opened)) >= 3, timeout=30)
    assert opened.sent[-1] == [
        "/dawhost/fake-transcribe/transcribe",
        "tr1",
        "audio",
        str(take),
        "monophonic",
        1,
        "deliver",
        "timed",
    ]
    assert _notes_played(opened) == [60, 64, 67]  # what the take holds, played back

    opened.click(_button_making(opened, "hum"))
    opened.pump(lambda: done.content[:1] == ["hum1"], timeout=30)
    assert opened.sent[-1][:3] == ["/dawhost/fake-bars-echo/continue", "hum1", "primer_from"]
    assert opened.sent[-1][3:6] == ["fake-transcribe", "audio", str(take)]
    # one bar (4 beats) of the echo: C E G C, played after the transcription's three notes
    opened.pump(lambda: len(_notes_played(opened)) >= 7, timeout=30)
    assert _notes_played(opened)[3:] == [60, 64, 67, 60]
    assert reply_display(opened, "/dawhost/error").content == []
    provenance = json.loads(done.content[3])
    assert [step["model"] for step in provenance["steps"]] == ["fake-transcribe"]


@pytest.mark.parametrize("opened", ["dawhost_transcribe.maxpat"], indirect=True)
def test_transcribe_patch_shows_which_step_failed(
    opened: Runtime, dawhost_server: DawhostServer
) -> None:
    transcriber = _menu_offering(opened, "fake-transcribe")
    transcriber.receive(0, ["symbol", "fake-transcribe"])
    _menu_offering(opened, "fake-bars-echo").receive(0, ["symbol", "fake-bars-echo"])
    (drop,) = opened.all("dropfile")
    opened.drop(drop, str(dawhost_server.work_dir / "no-such-take.wav"))
    errors = reply_display(opened, "/dawhost/error")
    opened.click(_button_making(opened, "hum"))
    opened.pump(lambda: bool(errors.content), timeout=30)
    rid, code, message, field = errors.content
    assert (rid, code, field) == ("hum1", "bad_input", "fake-transcribe.audio")
    assert message.startswith("step 'fake-transcribe' (making 'primer'): ")


def _click_track(path: Path, tempo: float, beats: int) -> Path:
    """A metronome WAV: a 20 ms click on each beat, from time 0, at 16 kHz."""
    rate = 16_000
    period = int(rate * 60.0 / tempo)
    audio = np.zeros(period * beats + rate // 2, np.float32)
    t = np.arange(rate // 50) / rate
    for index in range(beats):
        start = index * period
        audio[start : start + len(t)] = 0.5 * np.sin(2 * np.pi * 1000 * t) * np.exp(-t * 100)
    soundfile.write(path, audio, rate, subtype="PCM_16")
    return path


@pytest.mark.parametrize("opened", ["dawhost_analyze.maxpat"], indirect=True)
def test_analyze_patch_shows_tempo_signature_and_beats_and_sets_both_transports(
    opened: Runtime, dawhost_server: DawhostServer
) -> None:
    try:
        menu = _menu_offering(opened, "fake-analyze")
        assert "fake-echo" not in menu.items  # only models that analyze
        menu.receive(0, ["symbol", "fake-analyze"])
        track = _click_track(dawhost_server.work_dir / "clicks-100.wav", 100.0, 12)
        (drop,) = opened.all("dropfile")
        opened.drop(drop, str(track))
        (apply,) = [
            t
            for t in opened.all("toggle")
            if not any(o.box["text"] == "t i i" for o in opened.fed_by(t, 0, inlet=0))
        ]
        apply.receive(0, [1])
        opened.click(opened.message("3/4"))
        done = reply_display(opened, "/dawhost/done")
        opened.click(_button_making(opened, "an"))
        opened.pump(lambda: done.content[:1] == ["an1"], timeout=30)
        assert opened.sent[-1] == [
            "/dawhost/fake-analyze/analyze",
            "an1",
            "audio",
            str(track),
            "apply_to_transport",
            1,
            "meter",
            "3/4",
        ]
        assert reply_display(opened, "/dawhost/error").content == []
        (fields,) = opened.all("dict.unpack")
        tempo, quarter_tempo = (opened.fed_by(fields, i, inlet=0)[0] for i in (0, 1))
        assert isinstance(tempo, Number) and isinstance(quarter_tempo, Number)
        assert tempo.value == pytest.approx(100.0, abs=0.5)
        assert quarter_tempo.value == pytest.approx(100.0, abs=0.5)
        (signature,) = [b for b in opened.fed_by(fields, 2) if isinstance(b, MessageBox)]
        assert signature.content == [3, 4]
        (count,) = [z for z in opened.all("zl") if z.args == ["len"]]
        (beats,) = opened.fed_by(count, 0, inlet=0)
        assert isinstance(beats, Number)
        assert beats.value == 12
        # dawhost's transport was set (apply_to_transport) and every client heard it
        opened.pump(lambda: reply_display(opened, "/dawhost/transport").content[:1] != [])
        opened.pump(
            lambda: abs(float(reply_display(opened, "/dawhost/transport").content[0]) - 100.0) < 0.5
        )
        router = next(o for o in opened.all("route") if o.args == ["analysis", "transport"])
        (applied,) = opened.fed_by(router, 1)
        assert isinstance(applied, MessageBox) and json.loads(applied.content[0])["applied"] is True
        # ... and "set Max's transport" sets Max's own
        (order,) = [o for o in opened.all("t") if o.args == ["b", "b", "b"]]
        (button,) = [b for b in opened.all("button") if order in opened.fed_by(b, 0, inlet=0)]
        opened.click(button)
        assert opened.clock["tempo"] == pytest.approx(100.0, abs=0.5)
        assert opened.clock["signature"] == (3, 4)
    finally:  # the server is shared by the package's tests: back to 120 BPM in 4/4
        for address, args in (
            ("/dawhost/transport/tempo", [120.0]),
            ("/dawhost/transport/signature", [4, 4]),
        ):
            opened.socket.sendto(encode_message(address, args), opened.server)


@pytest.mark.parametrize("opened", ["dawhost_analyze.maxpat"], indirect=True)
def test_analyze_patch_shows_a_bad_file(opened: Runtime, dawhost_server: DawhostServer) -> None:
    _menu_offering(opened, "fake-analyze").receive(0, ["symbol", "fake-analyze"])
    silent = dawhost_server.work_dir / "silence.wav"
    soundfile.write(silent, np.zeros(16_000, np.float32), 16_000, subtype="PCM_16")
    (drop,) = opened.all("dropfile")
    opened.drop(drop, str(silent))
    errors = reply_display(opened, "/dawhost/error")
    opened.click(_button_making(opened, "an"))
    opened.pump(lambda: bool(errors.content), timeout=30)
    rid, code, message, field = errors.content
    assert (rid, code, field) == ("an1", "bad_input", "audio")
    assert "fewer than two clicks" in message
