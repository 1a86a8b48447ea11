"""The browser page shows an analysis as a musician reads it: the BPM and signature, the
recording's waveform with every beat and (numbered) downbeat drawn on it, and "Apply to
transport", which sets dawhost's transport; with `apply_to_transport` the server's own answer
is shown. Chromium (Debian's, through playwright) against a real `dawhost serve`, with the
fake click-counting analyzer (tests/clients/fake_models.py), and a screenshot of each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from tests.clients.dawhost_server import DawhostServer
from tests.clients.test_browser import card, choose, send, server_tempo, set_control, wait_state
from tests.clients.test_browser_music import assert_drawn, screenshot

# The canvas colour at (x, y): the downbeat lines are orange (#ff9e64), beats light grey.
PIXEL = (
    """(c, [x, y]) => Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3))"""
)


def click_track(path: Path, tempo: float, beats: int) -> Path:
    """A metronome (16 kHz, 16-bit; WAV or FLAC by the suffix): a 20 ms click on each beat,
    the first at 0.25 s."""
    rate = 16_000
    period = int(rate * 60.0 / tempo)
    lead = rate // 4
    audio = np.zeros(lead + period * beats + rate // 2, np.float32)
    t = np.arange(rate // 50) / rate
    for index in range(beats):
        start = lead + index * period
        audio[start : start + len(t)] = 0.5 * np.sin(2 * np.pi * 1000 * t) * np.exp(-t * 100)
    soundfile.write(path, audio, rate, subtype="PCM_16")
    return path


@pytest.fixture
def restore_transport(page: Any, dawhost_server: DawhostServer) -> Iterator[None]:
    """These tests change the shared server's transport: back to 120 BPM in 4/4 after."""
    yield
    page.evaluate("() => window.dawhost.transport.send({tempo: 120, signature: [4, 4]})")
    page.wait_for_function("() => window.dawhost.transport.state?.tempo === 120")


def analyse(page: Any, track: Path, meter: str, apply: bool) -> str:
    choose(page, "fake-analyze")
    page.set_input_files("[data-upload-for=audio]", str(track))
    page.wait_for_function(
        "() => document.querySelector('[data-input=audio]').dataset.fileName !== undefined"
    )
    set_control(page, "[data-option=meter]", meter)
    if apply:
        page.check("[data-option=apply_to_transport]")
    job = send(page)
    wait_state(page, job, "done")
    return job


def test_an_analysis_is_drawn_on_the_recording_and_applied_to_the_transport(
    page: Any, tmp_path: Path, dawhost_server: DawhostServer, restore_transport: None
) -> None:
    track = click_track(tmp_path / "clicks-100.wav", 100.0, 12)
    job = analyse(page, track, "3/4", apply=False)
    figure = f"{card(page, job)} figure.analysis"
    page.wait_for_selector(f"{figure}[data-drawn=waveform]")
    assert page.text_content(f"{figure} .bpm") == "100.0"
    assert page.text_content(f"{figure} .signature") == "3/4"
    facts = page.text_content(f"{figure} .facts") or ""
    assert "12 beats" in facts and "4 bars" in facts and "bar 1 at 0.25 s" in facts
    canvas = f"{figure} canvas.beats"
    assert page.eval_on_selector(canvas, "c => [c.dataset.beats, c.dataset.downbeats]") == [
        "12",
        "4",
    ]
    assert_drawn(page, canvas, min_drawn=0.02)  # a sparse click track, and lines over it
    seconds = float(page.eval_on_selector(canvas, "c => c.dataset.seconds"))
    width = page.eval_on_selector(canvas, "c => c.width")
    bar_two = round((0.25 + 3 * 0.6) / seconds * width)  # the second downbeat's line
    assert page.eval_on_selector(canvas, PIXEL, [bar_two, 60]) == [255, 158, 100]
    # A beat that is not a downbeat: a light line (red above the waveform's 90 and the
    # background's 22), not orange.
    second_beat = round((0.25 + 0.6) / seconds * width)
    around = [
        page.eval_on_selector(canvas, PIXEL, [x, 100])
        for x in range(second_beat - 1, second_beat + 2)
    ]
    assert any(c[0] >= 110 and c != [255, 158, 100] for c in around), around
    between = round((0.25 + 0.3) / seconds * width)  # half-way between two beats: no line
    assert page.eval_on_selector(canvas, PIXEL, [between, 50])[0] < 110
    screenshot(page, "analysis")

    assert server_tempo(dawhost_server) == 120.0
    page.click(f"{figure} button.apply-transport")
    page.wait_for_function("() => window.dawhost.transport.state?.tempo === 100")
    assert page.text_content("#transport-signature") == "3/4"
    assert server_tempo(dawhost_server) == 100.0
    assert "sent: 100.0 BPM, 3/4" in (page.text_content(f"{figure} .applied") or "")


def test_apply_to_transport_shows_the_servers_answer(
    page: Any, tmp_path: Path, dawhost_server: DawhostServer, restore_transport: None
) -> None:
    # A FLAC file: the page's WAV reader cannot read it, the browser's decoder draws it.
    track = click_track(tmp_path / "clicks-120.flac", 120.0, 8)
    job = analyse(page, track, "6/8", apply=True)
    figure = f"{card(page, job)} figure.analysis"
    page.wait_for_selector(f"{figure}[data-applied=server]")
    page.wait_for_selector(f"{figure}[data-drawn=waveform]")
    # 120 dotted quarters a minute in 6/8: the transport counts quarter notes, 180 of them
    assert page.text_content(f"{figure} .bpm") == "120.0"
    assert "dotted quarter" in (page.text_content(f"{figure} .unit") or "")
    assert page.text_content(f"{figure} .applied") == ("dawhost's transport set to 180.0 BPM, 6/8")
    page.wait_for_function("() => window.dawhost.transport.state?.tempo === 180")
    assert page.text_content("#transport-signature") == "6/8"
    screenshot(page, "analysis-applied")
