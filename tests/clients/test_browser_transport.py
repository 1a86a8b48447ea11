"""Playback and recording in the page, in headless Chromium against a real `dawhost serve`:
notes (the WebAudio synth) start on the transport's next bar line and follow a tempo change
made while they play; an audio render and the stems start on the bar line; all stop with the
transport; the microphone recorder is an AudioWorklet. Positions are compared in beats with
tolerances a loaded 2-core machine keeps: the scheduler's own log says when each note was
due, so a late timer cannot fail a test."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.clients.conftest import ARTIFACTS
from tests.clients.dawhost_server import DawhostServer
from tests.clients.test_browser import card, choose, send, set_control, wait_state
from tests.clients.test_browser_music import (
    EXAMPLES,
    PRIMER_TEXT,
    assert_drawn,
    assert_starts_on_a_bar_line,
    screenshot,
    wait_for_audio_clock,
)

pytestmark = pytest.mark.browser

VIEW = """(id) => [...window.dawhost.jobs.get(id).variations.values()][0]"""


def set_tempo(page: Any, bpm: float) -> None:
    page.fill("#transport-tempo-input", str(bpm))
    page.click("#transport-form button[type=submit]")
    page.wait_for_function(f"window.dawhost.transport.state?.tempo === {bpm}", timeout=20_000)


def start_transport(page: Any, bpm: float) -> None:
    set_tempo(page, bpm)
    page.click("#transport-play")
    page.wait_for_selector("#transport-playing[data-playing=true]", timeout=20_000)
    wait_for_audio_clock(page)


def echo_job(page: Any, repeats: int) -> str:
    choose(page, "fake-echo")
    page.fill("[data-input=primer]", PRIMER_TEXT)
    set_control(page, "[data-option=repeats]", repeats)
    job = send(page)
    wait_state(page, job, "done")
    return job


def test_notes_follow_a_tempo_change_made_while_they_play(page: Any) -> None:
    job = echo_job(page, repeats=3)  # 16 beats: the primer, then three echoes, a note a beat
    view = f"{card(page, job)} .variation"
    try:
        start_transport(page, 120)
        page.click(f"{view} button.play")
        page.wait_for_selector(f"{view}[data-playing=true]")
        # Beat 0 of the clip is a bar line of the transport.
        origin = page.evaluate(f"id => ({VIEW})(id).playback.clock.origin", job)
        assert origin % 4 == 0
        page.wait_for_function(
            "s => document.querySelector(s).dataset.playhead >= 1", arg=view, timeout=20_000
        )
        set_tempo(page, 60)
        # The clip's position is the transport's, beats since its bar line, and now advances
        # at 1 beat a second (at 120 BPM it would be 2).
        rate, offset, before = page.evaluate(
            f"""async (id) => {{
            const player = ({VIEW})(id).playback, transport = window.dawhost.transport;
            const b0 = player.beat(), t0 = performance.now();
            await new Promise((ok) => setTimeout(ok, 2000));
            const b1 = player.beat(), t1 = performance.now();
            return [(b1 - b0) / ((t1 - t0) / 1000),
                    transport.currentBeat() - player.clock.origin - player.beat(), b0]; }}""",
            job,
        )
        assert rate == pytest.approx(1.0, abs=0.2), rate
        assert before >= 1  # a new tempo does not move the position (it once jumped to 1:1)
        assert abs(offset) < 0.05
        # the playhead drawn on the roll is where the player is
        drawn_at, now_at = page.evaluate(
            f"""id => [Number(document.querySelector(`.job[data-id='${{id}}'] .variation`)
            .dataset.playhead), ({VIEW})(id).playback.beat()]""",
            job,
        )
        assert drawn_at == pytest.approx(now_at, abs=0.5)
        assert_drawn(page, f"{view} canvas.pianoroll")
        screenshot(page, "playback-after-tempo-change")
        page.locator(f"{view} canvas.pianoroll").screenshot(
            path=str(ARTIFACTS / "screens" / "playback-roll.png")
        )
        page.wait_for_function(
            f"id => ({VIEW})(id).playback.log.filter(n => n.tempo === 60).length >= 3",
            arg=job,
            timeout=30_000,
        )
        log = page.evaluate(f"id => ({VIEW})(id).playback.log", job)
        for tempo in (120, 60):
            notes = [n for n in log if n["tempo"] == tempo]
            assert len(notes) >= 2, (tempo, log)
            for a, b in zip(notes, notes[1:], strict=False):
                # each note due (on the AudioContext clock) where the transport's tempo puts it
                expected = (b["beat"] - a["beat"]) * 60 / tempo
                assert b["ideal"] - a["ideal"] == pytest.approx(expected, abs=0.03), (a, b)
        # Stopping the transport stops the notes.
        page.click("#transport-stop")
        page.wait_for_selector(f"{view}[data-playing=false]", timeout=20_000)
    finally:
        page.click("#transport-stop")
        set_tempo(page, 120)


def test_notes_with_the_transport_stopped_play_at_once_at_the_panels_tempo(page: Any) -> None:
    job = echo_job(page, repeats=1)
    view = f"{card(page, job)} .variation"
    set_tempo(page, 120)
    page.click(f"{view} button.play")
    page.wait_for_selector(f"{view}[data-playing=true]")
    page.wait_for_function(f"id => ({VIEW})(id).playback?.log.length >= 3", arg=job, timeout=20_000)
    log = page.evaluate(f"id => ({VIEW})(id).playback.log", job)
    assert [n["beat"] for n in log[:3]] == [0, 1, 2]
    assert log[1]["ideal"] - log[0]["ideal"] == pytest.approx(0.5, abs=0.03)
    page.click(f"{view} button.play")  # stop
    page.wait_for_selector(f"{view}[data-playing=false]")


def test_an_audio_render_starts_on_the_transports_next_bar_line(page: Any) -> None:
    choose(page, "fake-sine")
    page.fill("[data-input=notes]", "69 100 0 2")
    set_control(page, "[data-option=bars]", 2)
    job = send(page)
    wait_state(page, job, "done")
    player = f"{card(page, job)} .render-player"
    page.wait_for_selector(player)
    try:
        start_transport(page, 120)
        assert_starts_on_a_bar_line(page, f"{player} button", ".render-player")
        page.wait_for_selector(f"{player}[data-playing=true]")
        assert_drawn(page, f"{card(page, job)} canvas.waveform")
        assert_drawn(page, f"{player} button")
        screenshot(page, "render-player")
        page.click("#transport-stop")
        page.wait_for_selector(f"{player}[data-playing=false]", timeout=20_000)
    finally:
        page.click("#transport-stop")


def test_the_microphone_recorder_is_an_audio_worklet_without_deprecation_warnings(
    page: Any, dawhost_server: DawhostServer
) -> None:
    """The recording (Chromium's fake microphone: a beeping tone) arrives as the same 16-bit
    mono WAV the ScriptProcessor recorder made, and Chromium logs no deprecation for it."""
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    choose(page, "fake-stems")
    record = "[data-record-for=audio]"
    page.click(record)
    page.wait_for_selector(f"{record}[data-state=recording]")
    page.wait_for_function(
        f'document.querySelector("{record}").textContent.includes("1.5 s")', timeout=20_000
    )
    page.click(record)
    page.wait_for_selector(f"{record}[data-recorded]", timeout=20_000)
    path = Path(page.input_value("[data-input=audio]"))
    assert path.is_relative_to(dawhost_server.work_dir / "uploads")
    with wave.open(str(path)) as recording:
        assert (recording.getnchannels(), recording.getsampwidth()) == (1, 2)
        rate = recording.getframerate()
        seconds = recording.getnframes() / rate
        samples = np.frombuffer(recording.readframes(recording.getnframes()), "<i2")
    assert rate == page.evaluate("window.dawhost.audioContext().sampleRate")
    assert 1.4 <= seconds <= 10  # what was recorded, not one buffer nor an endless stream
    assert np.abs(samples).max() > 1000  # the fake microphone's tone, not silence
    warnings = [line for line in console if "deprecat" in line.lower()]
    assert not warnings, warnings
    assert page.evaluate("window.dawhost.lastRecorder?.kind") == "audio-worklet"


def test_stems_start_together_on_the_bar_line_and_stop_with_the_transport(page: Any) -> None:
    choose(page, "fake-stems")
    page.fill("[data-input=audio]", str(EXAMPLES / "loop.wav"))
    job = send(page)
    wait_state(page, job, "done")
    mixer = f"{card(page, job)} .stems"
    page.wait_for_function(
        "s => document.querySelectorAll(s).length === 4", arg=f"{mixer} canvas.waveform"
    )
    try:
        start_transport(page, 120)
        assert_starts_on_a_bar_line(page, f"{mixer} button.play-stems", ".stems")
        starts = page.eval_on_selector_all(
            f"{mixer} .stem", "els => els.map(e => e.dataset.startedAt)"
        )
        assert len(set(starts)) == 1 and len(starts) == 4
        page.wait_for_selector(f"{mixer}[data-playing=true]")
        page.click("#transport-stop")
        page.wait_for_selector(f"{mixer}[data-playing=false]", timeout=20_000)
    finally:
        page.click("#transport-stop")
