"""The browser controller in headless Chromium against a real `dawhost serve`: models and their
schema-built controls, a continuation drawn as a piano roll, audio and stems drawn as waveforms
and playable, cancel, errors for bad input, and the transport panel."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path
from typing import Any

import mido
import numpy as np
import pytest

from tests.clients.dawhost_server import DawhostServer, start_server

pytestmark = pytest.mark.browser

PRIMER_TEXT = "60 100 0 1\n64 90 1 1\n67 90 2 1\n72 100 3 1"


def choose(page: Any, model_id: str) -> None:
    page.click(f"#models [data-model='{model_id}']")
    page.wait_for_selector(f"#request[data-model='{model_id}']")


def set_control(page: Any, selector: str, value: Any) -> None:
    """Set a slider/number/select the way a drag does: value, then an input event."""
    page.eval_on_selector(
        selector,
        """(el, v) => { el.value = String(v);
        el.dispatchEvent(new Event('input', {bubbles: true})); }""",
        value,
    )


def send(page: Any) -> str:
    """Click Send and return the new job's request id."""
    before = page.eval_on_selector_all(".job", "els => els.length")
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll('.job').length > {before}")
    return str(page.eval_on_selector(".job", "el => el.dataset.id"))  # newest is first


def wait_state(page: Any, job_id: str, state: str, timeout: float = 10_000) -> Any:
    return page.wait_for_selector(
        f".job[data-id='{job_id}'][data-state='{state}']", timeout=timeout
    )


def card(page: Any, job_id: str) -> str:
    return f".job[data-id='{job_id}']"


def server_tempo(server: DawhostServer) -> float:
    return float(server.oscquery("/dawhost/transport/tempo?VALUE")["VALUE"][0])


def test_models_are_listed_with_controls_from_each_options_schema(
    page: Any, dawhost_server: DawhostServer
) -> None:
    tree = dawhost_server.oscquery("/dawhost")["CONTENTS"]
    served = {name for name, node in tree.items() if "options" in node.get("CONTENTS", {})}
    listed = set(
        page.eval_on_selector_all("#models [data-model]", "els => els.map(e => e.dataset.model)")
    )
    assert listed == served and "fake-echo" in listed
    # Everything the page loaded came from the dawhost server itself: it works offline.
    loaded = page.evaluate("performance.getEntriesByType('resource').map(r => r.name)")
    assert loaded and all(url.startswith(dawhost_server.page_url) for url in loaded), loaded
    assert {url.rsplit("/", 1)[1] for url in loaded} >= {"app.js", "style.css", "jobs.js"}

    choose(page, "fake-echo")
    repeats = page.eval_on_selector(
        "[data-option=repeats]", "el => [el.type, el.min, el.max, el.step, el.value]"
    )
    assert repeats == ["range", "1", "8", "1", "1"]
    temperature = page.eval_on_selector(
        "[data-option=temperature]", "el => [el.type, Number(el.min), Number(el.max)]"
    )
    assert temperature == ["range", 0.1, 2.0]
    assert page.eval_on_selector("[data-option=style]", "el => [el.type, el.value]") == [
        "text",
        "any",
    ]
    assert page.eval_on_selector("[data-input=primer]", "el => el.dataset.kind") == "notes"

    assert page.text_content("#model-facts").startswith("continue midi · streams")
    choose(page, "fake-singer")
    voices = page.eval_on_selector_all("[data-option=voice] option", "els => els.map(e => e.value)")
    assert voices == ["alto", "tenor"]
    kinds = page.eval_on_selector_all("[data-input]", "els => els.map(e => e.dataset.kind)")
    assert kinds == ["text", "notes"]


def test_only_the_options_the_user_touched_are_sent(page: Any) -> None:
    page.evaluate("""() => { window.sentMessages = [];
        const original = WebSocket.prototype.send;
        WebSocket.prototype.send = function (data) {
            if (typeof data === "string") window.sentMessages.push(JSON.parse(data));
            return original.call(this, data); }; }""")
    choose(page, "fake-echo")
    page.fill("[data-input=primer]", PRIMER_TEXT)
    wait_state(page, send(page), "done")
    set_control(page, "[data-option=repeats]", 3)
    wait_state(page, send(page), "done")
    sent = page.evaluate("() => window.sentMessages.filter(m => m.type === 'generate')")
    # Untouched sliders would otherwise send a default snapped to their step grid.
    assert [m["options"] for m in sent] == [{}, {"repeats": 3}]


def test_a_continuation_reaches_100_percent_and_is_drawn_as_a_piano_roll(page: Any) -> None:
    choose(page, "fake-echo")
    page.fill("[data-input=primer]", PRIMER_TEXT)
    set_control(page, "[data-option=repeats]", 3)
    assert page.text_content("#options output") == "3"
    job = send(page)
    wait_state(page, job, "done")
    assert page.eval_on_selector(f"{card(page, job)} progress", "el => el.value") == 1
    assert page.get_attribute(card(page, job), "data-fraction") == "1"
    roll = f"{card(page, job)} canvas.pianoroll"
    assert page.get_attribute(roll, "data-note-count") == "12"  # 4 notes x 3 repeats
    assert page.get_attribute(roll, "data-pitch-range") == "60-72"
    # Coloured pixels (notes) exist in the drawing, not just the background.
    lit = page.eval_on_selector(
        roll,
        """c => { const d = c.getContext('2d')
        .getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 2] > 150 && d[i] < 120) n++; return n; }""",
    )
    assert lit > 500
    midi = page.eval_on_selector(
        f"{card(page, job)} a.download-midi",
        """async a => [a.download,
        Array.from(new Uint8Array(await (await fetch(a.href)).arrayBuffer()))]""",
    )
    assert midi[0].endswith(".mid")
    song = mido.MidiFile(file=io.BytesIO(bytes(midi[1])))
    ons, now = [], 0
    for message in song.tracks[0]:
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            ons.append((message.note, now / song.ticks_per_beat))
    assert ons == [(p, float(beat)) for beat, p in enumerate([60, 64, 67, 72] * 3)]


def test_rendered_audio_gets_a_waveform_a_player_and_a_wav_download(
    page: Any, dawhost_server: DawhostServer
) -> None:
    choose(page, "fake-sine")
    page.fill("[data-input=notes]", "69 100 0 2")
    set_control(page, "[data-option=bars]", 2)
    set_control(page, "[data-option=gain]", 0.8)
    tempo = server_tempo(dawhost_server)
    job = send(page)
    wait_state(page, job, "done")
    wave_canvas = f"{card(page, job)} canvas.waveform"
    page.wait_for_selector(wave_canvas)
    expected_frames = round(2 * 4 * 60 / tempo * 8000)
    assert int(page.get_attribute(wave_canvas, "data-frames")) == expected_frames
    assert float(page.get_attribute(wave_canvas, "data-peak")) == pytest.approx(0.8, abs=0.01)
    # its player (transport-locked, WebAudio) holds the whole render
    seconds = float(page.get_attribute(f"{card(page, job)} .render-player", "data-seconds"))
    assert seconds == pytest.approx(expected_frames / 8000, abs=0.01)
    link = page.eval_on_selector(
        f"{card(page, job)} a.download-wav", "a => [a.download, a.href.slice(0, 5)]"
    )
    assert link == ["audio.wav", "blob:"]


def write_test_wav(path: Any, seconds: float = 0.5, rate: int = 8000) -> None:
    t = np.arange(int(seconds * rate)) / rate
    mix = 0.3 * np.sin(2 * np.pi * 100 * t) + 0.3 * np.sin(2 * np.pi * 3500 * t)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((mix * 32767).astype("<i2").tobytes())


def test_separated_stems_each_get_a_waveform_and_a_player(
    page: Any, dawhost_server: DawhostServer
) -> None:
    source = dawhost_server.work_dir / "loop.wav"
    write_test_wav(source)
    choose(page, "fake-stems")
    page.fill("[data-input=audio]", str(source))
    job = send(page)
    wait_state(page, job, "done")
    page.wait_for_function(
        f'document.querySelectorAll("{card(page, job)} canvas.waveform").length === 4'
    )
    stems = page.eval_on_selector_all(
        f"{card(page, job)} canvas.waveform",
        """els => els.map(
        c => [c.dataset.name, Number(c.dataset.frames), Number(c.dataset.peak)])""",
    )
    assert [s[0] for s in stems] == ["vocals", "drums", "bass", "other"]
    assert all(s[1] == 4000 for s in stems)
    # The 100 Hz tone lands in the first band, the 3.5 kHz tone in the last; the middle are quiet.
    peaks = {name: peak for name, _, peak in stems}
    assert peaks["vocals"] > 0.2 and peaks["other"] > 0.2
    assert peaks["drums"] < 0.05 and peaks["bass"] < 0.05

    # One mixer plays them: every stem starts on the same AudioContext instant.
    mixer = f"{card(page, job)} section.stems"
    page.click(f"{mixer} button.play-stems")
    page.wait_for_selector(f"{mixer}[data-playing=true]")
    starts = page.eval_on_selector_all(f"{mixer} .stem", "els => els.map(e => e.dataset.startedAt)")
    assert len(starts) == 4 and len(set(starts)) == 1 and float(starts[0]) > 0
    # Solo drums: only drums audible; mute drums too: solo wins; unsolo: all but drums.
    audible = f"""() => Array.from(document.querySelectorAll("{mixer} .stem"))
        .filter(e => e.dataset.audible === "true").map(e => e.dataset.name)"""
    page.click(f"{mixer} .stem[data-name=drums] button.solo")
    assert page.evaluate(audible) == ["drums"]
    page.click(f"{mixer} .stem[data-name=drums] button.mute")
    assert page.evaluate(audible) == ["drums"]
    page.click(f"{mixer} .stem[data-name=drums] button.solo")
    assert page.evaluate(audible) == ["vocals", "bass", "other"]
    page.click(f"{mixer} button.play-stems")
    page.wait_for_selector(f"{mixer}[data-playing=false]")
    links = page.eval_on_selector_all(f"{mixer} a.download-wav", "els => els.map(a => a.download)")
    assert links == ["vocals.wav", "drums.wav", "bass.wav", "other.wav"]


def test_a_file_chosen_in_the_page_is_uploaded_and_separated(
    page: Any, dawhost_server: DawhostServer, tmp_path: Path
) -> None:
    source = tmp_path / "from-the-desktop.wav"  # outside the work folder: must be uploaded
    write_test_wav(source)
    choose(page, "fake-stems")
    page.set_input_files("[data-upload-for=audio]", str(source))
    page.wait_for_function(
        'document.querySelector("[data-input=audio]").value.endsWith("from-the-desktop.wav")'
    )
    uploaded = Path(page.input_value("[data-input=audio]"))
    assert uploaded.is_relative_to(dawhost_server.work_dir / "uploads")
    assert uploaded.read_bytes() == source.read_bytes()
    job = send(page)
    wait_state(page, job, "done")
    page.wait_for_function(
        f'document.querySelectorAll("{card(page, job)} canvas.waveform").length === 4'
    )


def test_cancel_stops_a_slow_job(page: Any) -> None:
    choose(page, "fake-slow")
    set_control(page, "[data-option=seconds]", 30)
    job = send(page)
    page.wait_for_function(
        f'Number(document.querySelector("{card(page, job)}").dataset.fraction) > 0'
    )
    page.click(f"{card(page, job)} button.cancel")
    wait_state(page, job, "cancelled", timeout=5_000)
    assert page.get_attribute(f"{card(page, job)} .error", "data-code") == "cancelled"
    assert page.is_disabled(f"{card(page, job)} button.cancel")
    assert float(page.get_attribute(card(page, job), "data-fraction")) < 0.5


def test_bad_input_is_reported_by_name(page: Any) -> None:
    choose(page, "fake-echo")
    # Caught in the page: a note needs four numbers; nothing is sent.
    page.fill("[data-input=primer]", "60 100 0")
    page.click("#send")
    assert "4 numbers" in page.text_content("#form-error")
    assert page.eval_on_selector_all(".job", "els => els.length") == 0

    # Caught by the server: pitch out of range, reported with the input's name.
    page.fill("[data-input=primer]", "200 100 0 1")
    job = send(page)
    wait_state(page, job, "error")
    text = page.text_content(f"{card(page, job)} .error")
    assert text.startswith("bad_input:") and "pitch" in text and "primer" in text
    assert page.get_attribute("[data-input=primer]", "aria-invalid") == "true"

    # A model that fails: its message is shown, the page stays usable.
    choose(page, "fake-failing")
    job = send(page)
    wait_state(page, job, "error")
    assert "weights are corrupt" in page.text_content(f"{card(page, job)} .error")


def test_transport_panel_shows_and_changes_the_server_clock(
    page: Any, dawhost_server: DawhostServer
) -> None:
    try:
        page.fill("#transport-tempo-input", "96")
        page.fill("#transport-position-input", "3:1")
        page.click("#transport-form button[type=submit]")
        page.wait_for_function("document.querySelector('#transport-tempo').textContent === '96.0'")
        assert server_tempo(dawhost_server) == 96.0
        assert page.text_content("#transport-position") == "3:1"
        page.click("#transport-play")
        page.wait_for_selector("#transport-playing[data-playing=true]")
        playing = dawhost_server.oscquery("/dawhost/transport/playing?VALUE")["VALUE"]
        assert playing == [True]
        # While playing the shown position moves on from 3:1 (96 BPM: a beat in 0.625 s).
        page.wait_for_function(
            "document.querySelector('#transport-position').textContent === '3:2'", timeout=3_000
        )
        page.click("#transport-stop")
        page.wait_for_selector("#transport-playing[data-playing=false]")
    finally:
        page.evaluate("""() => new Promise(ok => { const ws = new WebSocket(
            `ws://${location.host}/`); ws.onopen = () => { ws.send(JSON.stringify({type:
            'transport', tempo: 120, position: 0, playing: false})); setTimeout(ok, 100); }; })""")
    assert json.loads(json.dumps(dawhost_server.oscquery("/dawhost/transport/tempo?VALUE"))) == {
        "VALUE": [120.0]
    }


def test_the_page_reconnects_when_the_server_restarts(
    page: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    first = start_server(tmp_path_factory.mktemp("restart"), project_plugins=False)
    second = None
    try:
        page.goto(first.page_url)
        page.wait_for_selector("#models[data-count]")
        first.stop()
        page.wait_for_selector("#connection[data-state=closed]")
        second = start_server(
            tmp_path_factory.mktemp("restarted"), ports=first.ports, project_plugins=False
        )
        page.wait_for_selector("#connection[data-state=open]", timeout=15_000)
        # Back online, the page asks for the models again and can run a request.
        page.wait_for_function("document.querySelector('#models').dataset.count > 0")
        choose(page, "fake-echo")
        wait_state(page, send(page), "done")
    finally:
        first.stop()
        if second is not None:
            second.stop()
