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

from protocols.osc_wire import encode_message
from tests.clients.dawhost_server import DawhostServer, free_port
from tests.clients.max_patch import PATCH_FOLDER
from tests.clients.max_runtime import (
    Buffer,
    Display,
    Menu,
    MessageBox,
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


@pytest.mark.parametrize("opened", ["dawhost_separate_stems.maxpat"], indirect=True)
def test_separate_patch_drops_a_file_and_loads_four_stem_buffers(
    opened: Runtime, dawhost_server: DawhostServer
) -> None:
    (menu,) = opened.all("umenu")
    assert isinstance(menu, Menu)
    # Filled on open; the reply went to port 9001, so click /dawhost/models to refresh.
    opened.click(opened.message("/dawhost/models"))
    opened.pump(lambda: "fake-stems" in menu.items)
    assert menu.selected == "separation"  # the built-in model is the default
    menu.receive(0, ["symbol", "fake-stems"])  # a person picks the fake from the menu

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
def test_continue_patch_shows_errors_then_collects_the_continuation(opened: Runtime) -> None:
    (menu,) = opened.all("umenu")
    assert isinstance(menu, Menu)
    opened.click(opened.message("/dawhost/models"))
    opened.pump(lambda: "fake-echo" in menu.items)
    menu.receive(0, ["symbol", "fake-echo"])
    (button,) = opened.all("button")
    errors = reply_display(opened, "/dawhost/error")

    # The fake has no `bars` option: the server's error lands in the error box, by name.
    opened.click(button)
    opened.pump(lambda: bool(errors.content))
    request_id, code, message, field = errors.content
    assert (request_id, code, field) == ("mt1", "unknown_option", "bars") and "bars" in message

    # A person edits the request box to drop `bars` and sends again.
    body = opened.message("$1 primer")
    body.content = parse("$1 primer 60 100 0 1 64 90 1 1 temperature $3")
    (temperature,) = opened.all("flonum")
    assert isinstance(temperature, Number)
    opened.type_number(temperature, 0.5)
    done = reply_display(opened, "/dawhost/done")
    opened.click(button)
    opened.pump(lambda: bool(done.content))
    assert opened.sent[-1][:2] == ["/dawhost/fake-echo/continue", "mt2"]
    assert opened.sent[-1][-2:] == ["temperature", 0.5]
    (coll,) = opened.all("coll")
    assert isinstance(coll, Recorder)
    assert coll.stored == {1: [60, 100, 0.0, 1.0], 2: [64, 90, 1.0, 1.0]}
    (noteout,) = opened.all("noteout")
    assert isinstance(noteout, Recorder)
    assert [m for inlet, m in noteout.received if inlet == 0] == [[60], [64]]
    (cancel,) = [o for o in opened.all("prepend") if o.args == ["/dawhost/cancel"]]
    (current,) = [o for o in opened.objects.values() if cancel in opened.fed_by(o, 0, inlet=0)]
    assert isinstance(current, MessageBox) and current.content == ["mt2"]  # click to cancel
    opened.click(current)
    assert opened.sent[-1] == ["/dawhost/cancel", "mt2"]


@pytest.mark.parametrize("opened", ["dawhost_transport.maxpat"], indirect=True)
def test_transport_patch_drives_the_server_clock(
    opened: Runtime, dawhost_server: DawhostServer
) -> None:
    def server(node: str) -> list[Any]:
        return dawhost_server.oscquery(f"/dawhost/transport/{node}?VALUE")["VALUE"]

    (toggle,) = opened.all("toggle")
    opened.clock.update(tempo=100.0, signature=(3, 4), ticks=960.0)
    try:
        before = len(opened.sent)
        opened.type_number(toggle, 1)  # Max's transport starts
        opened.tick()
        # Max fires [transport]'s outlets right to left: the state change starts the sequence
        # (position, signature, tempo, then play); the tempo outlet then follows on its own.
        sent = [m[0] for m in opened.sent[before:]]
        assert sent[:4] == [
            "/dawhost/transport/position",
            "/dawhost/transport/signature",
            "/dawhost/transport/tempo",
            "/dawhost/transport/play",
        ]
        assert opened.sent[before] == ["/dawhost/transport/position", 2.0]
        opened.pump(lambda: server("playing") == [True], timeout=5)
        assert server("tempo") == [100.0] and server("signature") == [3, 4]
        assert 2.0 <= server("position")[0] < 4.0  # 960 ticks = beat 2, and it is running

        opened.clock["tempo"] = 90.0  # a tempo change while playing follows at the next poll
        opened.tick()
        assert opened.sent[-1] == ["/dawhost/transport/tempo", 90.0]
        opened.type_number(toggle, 0)
        opened.tick()
        assert opened.sent[-1] == ["/dawhost/transport/stop"]
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
    # A person points the render section at another model by editing its two boxes.
    (request,) = [o for o in opened.all("prepend") if o.args == ["/dawhost/melnet/render"]]
    request.args = ["/dawhost/fake-sine/render"]
    opened.message("$1 notes").content = parse("$1 notes 69 100 0 2 bars $2")
    bars = next(
        n for n in opened.all("number") if n.box["id"] not in _port_boxes(opened)
    )  # the first bars box belongs to the render section
    opened.type_number(bars, 3)
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
