"""The browser page as a music tool, in headless Chromium against a real `dawhost serve`: a card
per variation with its own MIDI file and player, a piano roll with a keyboard and the primer,
playback on the page transport's bar line, syllables on the sung waveform, drag and drop,
remembered options, microphone recording, quiet audio drawn visibly. Screenshots are checked
for what a person would see (elements on screen, canvases drawn), not pixel for pixel."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import mido
import pytest

from tests.clients.conftest import ARTIFACTS
from tests.clients.dawhost_server import PROJECT, DawhostServer
from tests.clients.test_browser import card, choose, send, set_control, wait_state

pytestmark = pytest.mark.browser

PRIMER_TEXT = "60 100 0 1\n64 90 1 1\n67 90 2 1\n72 100 3 1"
EXAMPLES = PROJECT / "examples"

# Colours in a canvas, and how much of it is not background: "drawn", not just filled.
CANVAS_STATS = """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const bg = [d[0], d[1], d[2]]; const colours = new Set(); let drawn = 0;
    for (let i = 0; i < d.length; i += 4) {
        colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        if (Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) > 30)
            drawn++; }
    return {colours: colours.size, drawn: drawn / (c.width * c.height)}; }"""

# Where an element is on screen, and whether its parent shows all of it.
BOX = """e => { const r = e.getBoundingClientRect();
    const p = e.parentElement.getBoundingClientRect();
    return {x: r.x, y: r.y, width: r.width, height: r.height, right: r.right,
        inside: r.left >= p.left - 1 && r.right <= p.right + 1 && r.top >= p.top - 1
            && r.bottom <= p.bottom + 1,
        visible: getComputedStyle(e).visibility !== 'hidden' && r.width > 0 && r.height > 0}; }"""


def assert_drawn(page: Any, selector: str, min_drawn: float = 0.01) -> None:
    """Every element matching `selector` is on screen, and canvases hold a drawing."""
    elements = page.query_selector_all(selector)
    assert elements, f"nothing matches {selector}"
    width = page.viewport_size["width"]
    for element in elements:
        element.scroll_into_view_if_needed()
        box = element.evaluate(BOX)
        assert box["visible"] and box["x"] >= 0 and box["right"] <= width, (selector, box)
        if element.evaluate("e => e.tagName") == "CANVAS":
            stats = element.evaluate(CANVAS_STATS)
            assert stats["colours"] > 3 and stats["drawn"] >= min_drawn, (selector, stats)


def screenshot(page: Any, name: str) -> Path:
    path = ARTIFACTS / "screens" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one
    return path


def midi_ons(data: bytes) -> list[tuple[int, float]]:
    song = mido.MidiFile(file=io.BytesIO(data))
    ons, now = [], 0
    for message in mido.merge_tracks(song.tracks):
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            ons.append((message.note, now / song.ticks_per_beat))
    return ons


def link_bytes(page: Any, selector: str) -> tuple[str, bytes, str]:
    name, data, source = page.eval_on_selector(
        selector,
        """async a => [a.download, Array.from(new Uint8Array(await (await fetch(a.href))
        .arrayBuffer())), a.dataset.source]""",
    )
    return name, bytes(data), source


def drop_file(page: Any, path: Path, mime: str) -> None:
    """Drop a file on the page the way a file manager does (dragenter, dragover, drop)."""
    page.evaluate(
        """([name, mime, data]) => {
        const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: mime}));
        const target = document.querySelector('#jobs');
        for (const type of ['dragenter', 'dragover', 'drop'])
            target.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true,
                dataTransfer: transfer})); }""",
        [path.name, mime, base64.b64encode(path.read_bytes()).decode()],
    )


def test_each_variation_gets_its_own_card_midi_file_and_player(page: Any) -> None:
    choose(page, "fake-variations")
    page.fill("[data-input=primer]", PRIMER_TEXT)
    set_control(page, "[data-option=variations]", 3)
    job = send(page)
    wait_state(page, job, "done")
    cards = f"{card(page, job)} .variation"
    page.wait_for_function(
        f"""document.querySelectorAll("{cards} a.download-midi[data-source=model]")
        .length === 3"""
    )
    names = page.eval_on_selector_all(cards, "els => els.map(e => e.dataset.name)")
    assert names == ["notes-1", "notes-2", "notes-3"]
    titles = page.eval_on_selector_all(
        f"{cards} header strong", "els => els.map(e => e.textContent)"
    )
    assert titles == ["variation 1", "variation 2", "variation 3"]
    for v, name in enumerate(names, start=1):
        view = f"{cards}[data-name='{name}']"
        assert page.get_attribute(f"{view} canvas.pianoroll", "data-note-count") == "4"
        # Each file holds its own variation only: 4 notes, transposed by its number.
        filename, data, source = link_bytes(page, f"{view} a.download-midi")
        assert filename.endswith(f"midi-{v}.mid") and source == "model"
        assert midi_ons(data) == [(p + v, float(b)) for b, p in enumerate([60, 64, 67, 72])]
    # Playing one variation plays that one only.
    page.click(f"{cards}[data-name='notes-2'] button.play")
    page.wait_for_selector(f"{cards}[data-name='notes-2'][data-playing=true]")
    playing = page.eval_on_selector_all(cards, "els => els.map(e => e.dataset.playing)")
    assert playing == ["false", "true", "false"]
    page.wait_for_function(
        f"""Number(document.querySelector("{cards}[data-name='notes-2']")
        .dataset.playhead) > 0.2"""
    )
    assert_drawn(page, f"{cards} canvas.pianoroll")
    screenshot(page, "variations")
    page.click(f"{cards}[data-name='notes-2'] button.play")
    page.wait_for_selector(f"{cards}[data-name='notes-2'][data-playing=false]")


def test_the_piano_roll_has_a_keyboard_and_draws_the_primer_before_the_continuation(
    page: Any,
) -> None:
    choose(page, "fake-echo")
    page.fill("[data-input=primer]", PRIMER_TEXT)
    job = send(page)
    wait_state(page, job, "done")
    roll = f"{card(page, job)} canvas.pianoroll"
    assert page.get_attribute(roll, "data-primer-count") == "4"
    assert page.get_attribute(roll, "data-note-count") == "4"
    assert page.get_attribute(roll, "data-beats") == "8"  # 4 beats of primer, 4 of echo
    # The keyboard: light keys down the left edge; the primer in grey in the first half, the
    # continuation in colour (blue-green) in the second.
    pixels = page.eval_on_selector(
        roll,
        """c => { const g = c.getContext('2d'); const half = (c.width + 44) / 2;
        const count = (x0, x1, test) => { const d = g.getImageData(x0, 0, x1 - x0, c.height).data;
            let n = 0; for (let i = 0; i < d.length; i += 4) if (test(d[i], d[i+1], d[i+2])) n++;
            return n; };
        const grey = (r, g, b) => r > 120 && Math.abs(r - b) < 30 && Math.abs(r - g) < 30;
        const blue = (r, g, b) => b > 120 && r < 100;
        return {keys: count(0, 20, (r, g, b) => r > 180 && g > 180 && b > 180),
            primerGrey: count(50, half - 4, grey), primerBlue: count(50, half - 4, blue),
            continuationBlue: count(half + 4, c.width, blue)}; }""",
    )
    assert pixels["keys"] > 1000, pixels
    assert pixels["primerGrey"] > 300 and pixels["primerBlue"] == 0, pixels
    assert pixels["continuationBlue"] > 300, pixels


def test_a_chosen_midi_primer_is_drawn_and_the_result_starts_on_the_next_bar(page: Any) -> None:
    choose(page, "fake-variations")
    set_control(page, "[data-option=variations]", 1)
    page.set_input_files("[data-upload-for=primer]", str(EXAMPLES / "primer.mid"))
    page.wait_for_function(
        'document.querySelector("[data-input=primer]").value.endsWith("primer.mid")'
    )
    job = send(page)
    wait_state(page, job, "done")
    roll = f"{card(page, job)} canvas.pianoroll"
    assert page.get_attribute(roll, "data-primer-count") == "12"  # examples/primer.mid
    assert page.get_attribute(roll, "data-note-count") == "12"
    assert page.get_attribute(roll, "data-beats") == "16"  # 2 bars of primer, 2 of echo
    pitches = page.get_attribute(roll, "data-pitch-range")  # transposed up 1
    assert pitches == "44-78"


# Click a play button; then where its player starts: the transport beat it aimed at, and how
# far (ms) the time its start is heard (its AudioContext time through the output timestamp)
# is from the moment the transport reaches that beat. Read from what the player recorded, so
# a slow click or a late audio block on a loaded machine does not move the figures.
BAR_LINE_START = """([button, holder]) => {
    const b = document.querySelector(button); const transport = window.dawhost.transport;
    const beat = transport.currentBeat(); b.click();
    const box = b.closest(holder); const stamp = window.dawhost.audioContext().getOutputTimestamp();
    const heard = stamp.performanceTime + (Number(box.dataset.startedAt) - stamp.contextTime) * 1e3;
    const startBeat = Number(box.dataset.startBeat);
    return {beat, startBeat, offMs: heard - transport.timeOfBeat(startBeat)}; }"""


def wait_for_audio_clock(page: Any) -> None:
    """The page's AudioContext runs and pairs its clock with performance.now()."""
    page.wait_for_function(
        """() => { const c = window.dawhost.audioContext();
        return c.state === 'running' && c.getOutputTimestamp().performanceTime > 0; }""",
        timeout=20_000,
    )


def assert_starts_on_a_bar_line(page: Any, button: str, holder: str) -> None:
    """Clicked while the transport plays (4/4), the player starts on the next bar line."""
    start = page.evaluate(BAR_LINE_START, [button, holder])
    assert start["startBeat"] % 4 == 0, start
    assert 0 < start["startBeat"] - start["beat"] <= 4.05, start  # the next bar, not a later one
    # Heard when the transport reaches it: the output timestamp pairs the clocks once per audio
    # callback (10 ms here, its pairing jitters by about that), so within a few callbacks; a
    # start a beat off would be 500 ms.
    assert abs(start["offMs"]) < 50, start


def test_playback_starts_on_the_page_transports_next_bar_line(page: Any) -> None:
    choose(page, "fake-echo")
    page.fill("[data-input=primer]", PRIMER_TEXT)
    job = send(page)
    wait_state(page, job, "done")
    button = f"{card(page, job)} .variation button.play"
    stopped = page.eval_on_selector(
        button,
        """b => { const ctx = window.dawhost.audioContext(); const now = ctx.currentTime;
        b.click(); return Number(b.closest('.variation').dataset.startedAt) - now; }""",
    )
    assert 0 <= stopped < 0.2  # stopped transport: at once
    page.click(button)  # stop
    try:
        page.fill("#transport-tempo-input", "120")
        page.click("#transport-form button[type=submit]")
        page.click("#transport-play")
        page.wait_for_selector("#transport-playing[data-playing=true]")
        wait_for_audio_clock(page)
        assert_starts_on_a_bar_line(page, button, ".variation")
    finally:
        page.click("#transport-stop")


def test_syllables_are_drawn_on_the_sung_waveform_and_the_json_is_folded(page: Any) -> None:
    choose(page, "fake-singer")
    page.fill("[data-input=lyrics]", "hot cross buns")
    page.fill("[data-input=notes]", "67 100 0 1 64 100 1 1 60 100 2 2")
    job = send(page)
    wait_state(page, job, "done")
    wave_canvas = f"{card(page, job)} figure.file canvas.waveform"
    page.wait_for_selector(f"{wave_canvas}[data-syllables='3']")
    raw = f"{card(page, job)} details.raw[data-name=syllables]"
    assert page.eval_on_selector(raw, "d => d.open") is False
    assert not page.is_visible(f"{raw} pre")
    page.click(f"{raw} summary")
    assert page.is_visible(f"{raw} pre")
    words = [s["word"] for s in json.loads(page.text_content(f"{raw} pre"))["syllables"]]
    assert words == ["hot", "cross", "buns"]
    assert_drawn(page, wave_canvas, min_drawn=0.2)  # boxes over the waveform
    screenshot(page, "sung-line")


def test_files_dropped_anywhere_go_to_the_model_that_takes_them(
    page: Any, dawhost_server: DawhostServer
) -> None:
    choose(page, "fake-echo")
    drop_file(page, EXAMPLES / "loop.wav", "audio/wav")  # fake-echo takes no audio: separator
    page.wait_for_function('document.body.dataset.lastDrop === "fake-stems:audio"')
    page.wait_for_function('document.querySelector("[data-input=audio]").value.endsWith(".wav")')
    uploaded = Path(page.input_value("[data-input=audio]"))
    assert uploaded.is_relative_to(dawhost_server.work_dir / "uploads")
    assert uploaded.read_bytes() == (EXAMPLES / "loop.wav").read_bytes()
    assert page.get_attribute("#request", "data-model") == "fake-stems"

    choose(page, "fake-variations")  # takes notes: a MIDI file stays with it
    set_control(page, "[data-option=variations]", 1)
    drop_file(page, EXAMPLES / "melody.mid", "audio/midi")
    page.wait_for_function('document.body.dataset.lastDrop === "fake-variations:primer"')
    page.wait_for_function(
        'document.querySelector("[data-input=primer]").value.endsWith("melody.mid")'
    )
    job = send(page)
    wait_state(page, job, "done")
    assert page.get_attribute(f"{card(page, job)} canvas.pianoroll", "data-primer-count") == "6"

    drop_file(page, PROJECT / "README.md", "text/markdown")
    page.wait_for_function('document.body.dataset.lastDrop === "refused"')
    assert "drop a MIDI file" in page.text_content("#global-error")


def test_options_are_remembered_per_model_until_reset(page: Any) -> None:
    choose(page, "fake-echo")
    set_control(page, "[data-option=repeats]", 3)
    choose(page, "fake-sine")
    set_control(page, "[data-option=gain]", 0.25)
    page.reload()
    page.wait_for_selector("#models[data-count]")
    choose(page, "fake-echo")
    assert page.input_value("[data-option=repeats]") == "3"
    assert page.text_content("#options output") == "3"
    assert page.get_attribute("#options", "data-restored") == "1"
    choose(page, "fake-sine")
    assert page.input_value("[data-option=gain]") == "0.25"
    assert page.input_value("[data-option=bars]") == "1"  # untouched: the default
    page.click("#reset-options")
    assert page.input_value("[data-option=gain]") == "0.5"
    assert page.evaluate("localStorage.getItem('dawhost.options.fake-sine')") is None
    assert page.evaluate("localStorage.getItem('dawhost.options.fake-echo')") == '{"repeats":3}'


def test_a_microphone_recording_becomes_the_audio_input(
    page: Any, dawhost_server: DawhostServer
) -> None:
    choose(page, "fake-stems")
    record = "[data-record-for=audio]"
    page.click(record)
    page.wait_for_selector(f"{record}[data-state=recording]")
    page.wait_for_function(f'document.querySelector("{record}").textContent.includes("1.0 s")')
    page.click(record)
    page.wait_for_selector(f"{record}[data-recorded]")
    path = Path(page.input_value("[data-input=audio]"))
    assert "recording-" in path.name and path.suffix == ".wav"
    assert path.is_relative_to(dawhost_server.work_dir / "uploads")
    with wave.open(str(path)) as recording:
        seconds = recording.getnframes() / recording.getframerate()
        frames = recording.readframes(recording.getnframes())
    assert seconds >= 0.9
    assert max(abs(int.from_bytes(frames[i : i + 2], "little", signed=True))
               for i in range(0, len(frames), 2)) > 1000  # fmt: skip
    job = send(page)
    wait_state(page, job, "done")
    page.wait_for_function(
        f'document.querySelectorAll("{card(page, job)} canvas.waveform").length === 4'
    )
    assert_drawn(page, f"{card(page, job)} .stem canvas.waveform")
    page.click(f"{card(page, job)} .stem[data-name=vocals] button.solo")
    screenshot(page, "stems")


def test_file_buttons_are_not_clipped(page: Any) -> None:
    for model, input_name in [("fake-stems", "audio"), ("fake-echo", "primer")]:
        choose(page, model)
        chooser = f".control[data-input-row={input_name}] .file-button"
        box = page.eval_on_selector(chooser, BOX)
        assert box["visible"] and box["inside"] and box["width"] > 60, box
        row = page.eval_on_selector(f".control[data-input-row={input_name}]", BOX)
        assert row["inside"], row
    box = (
        page.eval_on_selector("[data-record-for]", BOX)
        if page.query_selector("[data-record-for]")
        else None
    )
    assert box is None  # fake-echo takes notes: no microphone button
    choose(page, "fake-stems")
    assert page.eval_on_selector("[data-record-for=audio]", BOX)["inside"]
    screenshot(page, "request-form")


def test_quiet_audio_is_drawn_at_a_visible_size(page: Any) -> None:
    choose(page, "fake-quiet")
    page.fill("[data-input=notes]", "69 100 0 4")
    job = send(page)
    wait_state(page, job, "done")
    canvas = f"{card(page, job)} canvas.waveform"
    page.wait_for_selector(canvas)
    assert float(page.get_attribute(canvas, "data-peak")) == pytest.approx(0.01, abs=0.001)
    height = page.eval_on_selector(
        canvas,
        """c => { const d = c.getContext('2d').getImageData(c.width / 2, 0, 1, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 1] > 150) n++;
        return n / c.height; }""",
    )
    assert height > 0.8  # a -40 dBFS tone fills the drawing, as a loud one would
    assert "-40.0 dBFS" in page.text_content(f"{card(page, job)} figcaption")


def test_the_page_oscquery_and_dawhost_models_show_the_same_ranges(
    page: Any, dawhost_server: DawhostServer, tmp_path: Path
) -> None:
    """Every option of every model (the project's and the fakes) has one range everywhere."""
    manifest = tmp_path / "manifest.toml"
    manifest.write_text((dawhost_server.log_path.parent / "manifest.toml").read_text())
    listed = subprocess.run(
        [sys.executable, "-m", "host.cli", "models", "--json"],
        env={**os.environ, "DAWHOST_MANIFEST": str(manifest), "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT,
    )
    cli = {m["id"]: m for m in json.loads(listed.stdout)["models"]}
    tree = dawhost_server.oscquery("/dawhost")["CONTENTS"]
    page_models = page.eval_on_selector_all(
        "#models [data-model]", "els => els.map(e => e.dataset.model)"
    )
    assert set(page_models) == set(cli) and {"music-transformer", "separation"} <= set(cli)
    compared = 0
    for model_id in page_models:
        choose(page, model_id)
        for option in cli[model_id]["options"]:
            node = tree[model_id]["CONTENTS"]["options"]["CONTENTS"][option["name"]]
            control = page.eval_on_selector(
                f"[data-option='{option['name']}']",
                """e => ({tag: e.tagName, type: e.type, min: e.min, max: e.max,
                choices: e.tagName === 'SELECT'
                    ? Array.from(e.options).map(o => o.value) : null})""",
            )
            where = (model_id, option["name"], control, node.get("RANGE"))
            bounds = {"MIN": option["minimum"], "MAX": option["maximum"]}
            bounds = {key: value for key, value in bounds.items() if value is not None}
            if option["choices"]:
                assert node["RANGE"] == [{"VALS": option["choices"]}], where
                assert control["choices"] == [str(c) for c in option["choices"]], where
            elif option["type"] == "bool":
                assert control["type"] == "checkbox" and node["TYPE"] in ("T", "F"), where
                assert node.get("RANGE") is None, where
            elif bounds:  # a slider, or a number field when only one end is bounded
                assert node["RANGE"] == [bounds], where
                shown = {"MIN": control["min"], "MAX": control["max"]}
                assert {k: float(v) for k, v in shown.items() if v != ""} == bounds, where
            else:  # free text or an unbounded number: no range anywhere
                assert node.get("RANGE") is None and control["min"] in ("", None), where
            compared += 1
    assert compared >= 20


def test_music_transformer_variations_in_the_page(page: Any) -> None:
    """The real model (its shipped checkpoint, in a worker): a MIDI primer, two variations of
    one bar, each its own card, drawn after the primer, with the model's own MIDI file."""
    choose(page, "music-transformer")
    page.set_input_files("[data-upload-for=primer]", str(EXAMPLES / "primer.mid"))
    page.wait_for_function(
        'document.querySelector("[data-input=primer]").value.endsWith("primer.mid")'
    )
    set_control(page, "[data-option=variations]", 2)
    set_control(page, "[data-option=bars]", 1)
    page.fill("#seed", "7")
    job = send(page)
    wait_state(page, job, "done", timeout=90_000)
    cards = f"{card(page, job)} .variation"
    page.wait_for_function(
        f"""document.querySelectorAll("{cards} a.download-midi[data-source=model]")
        .length === 2"""
    )
    assert page.eval_on_selector_all(cards, "els => els.map(e => e.dataset.name)") == [
        "notes-1",
        "notes-2",
    ]
    for name in ("notes-1", "notes-2"):
        roll = f"{cards}[data-name='{name}'] canvas.pianoroll"
        assert page.get_attribute(roll, "data-primer-count") == "12"
        assert int(page.get_attribute(roll, "data-note-count")) > 0
        _, data, _ = link_bytes(page, f"{cards}[data-name='{name}'] a.download-midi")
        ons = midi_ons(data)
        # The file holds the primer where it was (bars 1-2), then the bar asked for.
        assert ons[:2] == [(48, 0.0), (72, 0.0)] and max(b for _, b in ons) < 12
    assert_drawn(page, f"{cards} canvas.pianoroll")


def _tones_file(tmp_path: Path, pitches: list[int]) -> Path:
    from tests.fakes import write_tones

    return write_tones(tmp_path / "hummed.wav", pitches)


def test_a_primer_from_audio_is_transcribed_and_continued_in_one_request(
    page: Any, tmp_path: Path
) -> None:
    """Primer from: audio, transcribed by fake-transcribe; choose the file: one job, the notes
    heard drawn as the primer, the continuation after them."""
    choose(page, "fake-echo")
    page.select_option("[data-chain-for=primer]", "fake-transcribe")
    assert page.is_disabled("[data-input=primer]")  # not sent while the primer is audio
    page.set_input_files(".chain-step input[type=file]", str(_tones_file(tmp_path, [60, 64, 67])))
    page.wait_for_function(
        "document.querySelector('[data-step-input]').value.endsWith('hummed.wav')"
    )
    job = send(page)
    wait_state(page, job, "done", timeout=30_000)
    assert page.get_attribute(card(page, job), "data-note-count") == "3"
    names = page.eval_on_selector_all(
        f"{card(page, job)} details.raw", "els => els.map(e => e.dataset.name)"
    )
    assert "fake-transcribe.notes" in names
    heard = json.loads(
        page.text_content(f"{card(page, job)} details.raw[data-name='fake-transcribe.notes'] pre")
        or "{}"
    )
    assert [n[0] for n in heard["notes"]] == [60, 64, 67]
    # the piano roll draws the notes heard as its primer (grey) before the continuation
    assert page.evaluate(
        f"window.dawhost.jobs.get('{job}').primer.notes.length"
    ) == 3  # fmt: skip
    screenshot(page, "chain-from-file")


def test_a_recorded_primer_goes_through_the_chain_and_a_silent_one_is_named(
    page: Any, tmp_path: Path
) -> None:
    choose(page, "fake-echo")
    page.select_option("[data-chain-for=primer]", "fake-transcribe")
    page.click("#send")  # nothing recorded yet: the page says what is missing, sends nothing
    assert page.text_content("#form-error") == (
        "primer: choose, drop or record the audio fake-transcribe should transcribe"
    )
    record = ".chain-step [data-record-for]"
    page.click(record)
    page.wait_for_selector(f"{record}[data-state=recording]")
    page.wait_for_function(f'document.querySelector("{record}").textContent.includes("1.5 s")')
    page.click(record)
    page.wait_for_selector(f"{record}[data-recorded]")
    job = send(page)
    page.wait_for_selector(
        f"{card(page, job)}[data-state=done], {card(page, job)}[data-state=error]",
        timeout=30_000,
    )
    state = page.get_attribute(card(page, job), "data-state")
    # Chromium's fake microphone beeps; whatever the transcriber heard was continued, or the
    # page says that the transcription step heard nothing (never a silent failure).
    if state == "error":
        assert "step 'fake-transcribe'" in (page.text_content(f"{card(page, job)} .error") or "")
    else:
        assert int(page.get_attribute(card(page, job), "data-note-count") or 0) >= 1
    # a silent file: the error names the step and what to do
    page.set_input_files(".chain-step input[type=file]", str(_silence(tmp_path)))
    page.wait_for_function(
        "document.querySelector('[data-step-input]').value.endsWith('quiet.wav')"
    )
    job = send(page)
    wait_state(page, job, "error", timeout=30_000)
    text = page.text_content(f"{card(page, job)} .error") or ""
    assert "step 'fake-transcribe' (making 'primer') made no notes" in text


def _silence(tmp_path: Path) -> Path:
    from tests.fakes import write_tones

    return write_tones(tmp_path / "quiet.wav", [None, None])
