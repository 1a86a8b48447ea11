"""The MIDI front-end end to end over a private JACK server (dummy driver, 64-frame periods).

An independent JACK client plays the DAW: clock, Start/Stop, a phrase, the trigger CC. The
assertions are on what reaches that client from `dawhost out`. Timing tolerances are loose
(a few ms) because the driver runs in this process on a shared machine; the precise figures are
in benchmarks/bench_midi_*.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import rtmidi

import host
from host import Capability, InputKind, InputSpec, Model, Note, NotesOutput
from host.requests import Request
from protocols.midi import MidiFrontend
from tests.fakes import EchoContinuer, FailingModel, make_core
from tests.protocols.midi_jack import (
    Driver,
    JackServer,
    JackUnavailable,
    Received,
    jack_server,
    retried_after_xruns,
)

pytestmark = pytest.mark.jack

TRIGGER_CC, PANIC_CC = 20, 21
PHRASE = [60, 64, 67]
# Responses start on the next beat (not bar) at least a quarter beat ahead: shorter tests.
ON_THE_BEAT = {"midi": {"align": "beat", "lead_beats": 0.25}}
FAST = 240.0  # BPM for tests that are not about a particular tempo: shorter bars


class Transposer(Model):
    """A second continue_midi model for program-change tests: the primer a fifth up."""

    model_id = "test-transposer"
    capabilities = frozenset({Capability.CONTINUE_MIDI})
    inputs = (InputSpec("primer", InputKind.NOTES, "notes"),)

    def run(self, job: host.Job) -> Iterator[NotesOutput]:
        primer: list[Note] = job.inputs["primer"]
        first = min(n.start for n in primer)
        yield NotesOutput([replace(n, pitch=n.pitch + 7, start=n.start - first) for n in primer])


@pytest.fixture(scope="module")
def jack() -> Iterator[JackServer]:
    try:
        with jack_server() as server:
            yield server
    except JackUnavailable as exc:
        pytest.skip(str(exc))


def run(jack: JackServer, tmp_path: Path, scenario: Any, *models: Model, **settings: Any) -> Any:
    """Start a core and the MIDI front-end on JACK, connect a Driver, run `scenario`."""

    async def main() -> Any:
        core = make_core(tmp_path, *(models or (EchoContinuer(),)), midi_api="jack", **settings)
        # Workers up and models loaded first: these tests time answers, not worker start-up.
        await core.engine.warm_up(core.models.values())
        frontend = MidiFrontend()
        await frontend.start(core)
        core.scheduler.start()  # as `dawhost serve` does (it also shortens the GIL interval)
        assert frontend.error is None, frontend.error
        driver = Driver()
        try:
            driver.connect()
            return await scenario(core, frontend, driver)
        finally:
            driver.stop_clock()
            await frontend.stop()
            await core.shutdown()
            await asyncio.sleep(0.05)  # let the last note-offs reach the driver
            driver.close()

    return asyncio.run(main())


async def play_phrase(
    driver: Driver, pitches: list[int], channel: int = 0, length: float = 0.1, rest: float = 0.03
) -> None:
    for pitch in pitches:
        driver.send(0x90 | channel, pitch, 100)
        await asyncio.sleep(length)
        driver.send(0x80 | channel, pitch, 0)
        await asyncio.sleep(rest)


async def start_playing(core: Any, driver: Driver, tempo: float) -> None:
    """Start the driver's clock and wait until dawhost plays along at that tempo (a loaded
    machine may take longer than usual to get there)."""
    driver.start_clock(tempo)
    await asyncio.sleep(0.3)
    for _ in range(500):
        transport = core.transport
        if transport.playing and transport.tempo == pytest.approx(tempo, rel=0.02):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(
        f"dawhost is not following the clock: playing={core.transport.playing}, "
        f"tempo={core.transport.tempo:.2f} (sent {tempo}), ticks sent={len(driver.tick_times)}"
    )


async def response_on(frontend: MidiFrontend, replacing: Any = None, channel: int = 0) -> Any:
    """The response the trigger just asked for (the loop may be slow on a loaded machine)."""
    deadline = asyncio.get_running_loop().time() + 5.0
    while asyncio.get_running_loop().time() < deadline:
        response = frontend.responses.get(channel)
        if response is not None and response is not replacing:
            return response
        await asyncio.sleep(0.005)
    assert frontend.recorder is not None and frontend.core is not None
    recorded = frontend.recorder.channels.get(channel)
    raise AssertionError(
        f"the trigger produced no response: transport playing={frontend.core.transport.playing}"
        f" at beat {frontend.core.transport.beat_at():.2f}; recorded on channel {channel + 1}:"
        f" {list(recorded.notes) if recorded else 'nothing'}"
    )


async def until_beat(core: Any, beat: float) -> None:
    await asyncio.sleep(max(0.0, core.transport.time_at(beat) - core.transport.now()))


def trigger(driver: Driver, channel: int = 0) -> None:
    driver.send(0xB0 | channel, TRIGGER_CC, 127)
    driver.send(0xB0 | channel, TRIGGER_CC, 0)


def balanced(messages: list[Received]) -> bool:
    """Every note-on is followed by a note-off for the same channel and pitch."""
    sounding: dict[tuple[int, int], int] = {}
    for message in messages:
        key = (message.data[0] & 0x0F, message.data[1])
        if message.kind == "on":
            sounding[key] = sounding.get(key, 0) + 1
        elif message.kind == "off" and sounding.get(key):
            sounding[key] -= 1
    return not any(sounding.values())


def sent_tempo(tick_times: Sequence[float]) -> float:
    """The tempo of the last beat of clock ticks actually sent (24 per beat)."""
    ticks = list(tick_times)
    return 60.0 / (ticks[-1] - ticks[-25])


@retried_after_xruns
def test_clock_sets_tempo_and_position_at_120_then_90(jack: JackServer, tmp_path: Path) -> None:
    async def scenario(core: Any, frontend: MidiFrontend, driver: Driver) -> dict[str, float]:
        driver.start_clock(120)
        await asyncio.sleep(1.0)
        at_120, sent_120 = core.transport.tempo, sent_tempo(driver.tick_times)
        driver.tempo = 90
        await asyncio.sleep(1.4)  # two beats at 90
        ticks = list(driver.tick_times)
        beat_error = core.transport.beat_at(ticks[-1]) - (len(ticks) - 1) / 24
        return {
            "at_120": at_120,
            "sent_120": sent_120,
            "at_90": core.transport.tempo,
            "sent_90": sent_tempo(ticks),
            "beat_error": beat_error,
            "playing": core.transport.playing,
        }

    result = run(jack, tmp_path, scenario)
    assert result["playing"]
    # Against the tempo the ticks really had over the last beat, so the check is on the
    # estimator, not on the driver's thread keeping time on a loaded machine (an estimate of
    # 82.5 BPM for a nominal 90 was seen once). Loose (3 %); the estimator's precision is
    # measured in benchmarks/bench_midi_tempo.py.
    assert result["sent_90"] == pytest.approx(90, rel=0.15)  # the change did reach the ticks
    assert result["at_120"] == pytest.approx(result["sent_120"], rel=0.03)
    assert result["at_90"] == pytest.approx(result["sent_90"], rel=0.03)
    # The transport sits on the sender's grid: within a tenth of a beat of its last tick. How
    # close is measured by bench_midi_tempo.py; a slow, shared machine was seen 29 ms off
    # here, which a timed test must not fail on.
    assert abs(result["beat_error"]) < 0.1


@retried_after_xruns
def test_response_starts_on_the_next_bar_line_and_echoes_the_phrase(
    jack: JackServer, tmp_path: Path
) -> None:
    async def scenario(core: Any, frontend: MidiFrontend, driver: Driver) -> Any:
        await start_playing(core, driver, FAST)
        await play_phrase(driver, PHRASE)
        trigger(driver)
        response = await response_on(frontend)
        await until_beat(core, response.anchor_beat + 2)
        return response.anchor_beat, driver.tick_times, driver.messages(), driver.sent_notes()

    anchor, ticks, messages, played = run(jack, tmp_path, scenario)
    assert anchor % 4 == 0 and anchor >= 4
    ons = [m for m in messages if m.kind == "on"]
    assert [m.data[1] for m in ons] == PHRASE
    # The first note lands on the bar line of the sender's own clock (tick 24 per beat). Loose
    # (30 ms, an eighth of a beat here) because CI machines are shared; the millisecond figures
    # come from benchmarks/bench_midi_call_response.py.
    bar_tick_time = ticks[int(anchor * 24)]
    assert ons[0].time - bar_tick_time == pytest.approx(0.0, abs=0.03)
    # Echoed rhythm: the answer's notes are as far apart as the phrase's were when played.
    gaps = [b.time - a.time for a, b in zip(ons, ons[1:], strict=False)]
    played_gaps = [b[0] - a[0] for a, b in zip(played, played[1:], strict=False)]
    assert gaps == pytest.approx(played_gaps, abs=0.02)  # the gaps are 130 ms
    assert balanced(messages)


@retried_after_xruns
def test_response_follows_a_tempo_change_while_it_plays(jack: JackServer, tmp_path: Path) -> None:
    async def scenario(core: Any, frontend: MidiFrontend, driver: Driver) -> Any:
        await start_playing(core, driver, 120)
        for _ in range(2):
            await play_phrase(driver, PHRASE, length=0.15, rest=0.05)  # 0.4 beat apart
        trigger(driver)
        response = await response_on(frontend)
        await until_beat(core, response.anchor_beat + 0.6)
        driver.tempo = 90  # after the second note of the response
        # The last note is 1.4 beats later; wait for it with room for a slow machine (the
        # timing is checked below, from the notes' own times).
        deadline = asyncio.get_running_loop().time() + 1.4 * 60 / 90 + 2.0
        while len(driver.messages("on")) < 6 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        # What dawhost meant to play, for the message if a note is missing.
        state = (
            f"{response.playback.scheduled_notes} notes scheduled from beat"
            f" {response.anchor_beat}, {response.playback.pending()} still pending at beat"
            f" {core.transport.beat_at():.2f} (playing={core.transport.playing},"
            f" tempo={core.transport.tempo:.1f}); the driver played {len(driver.sent_notes())}"
        )
        return driver.messages("on"), driver.sent_notes(), state

    ons, played, state = run(jack, tmp_path, scenario, sections=ON_THE_BEAT)
    assert len(ons) == 6, f"{len(ons)} of 6 notes answered: {state}"
    gaps = [b.time - a.time for a, b in zip(ons, ons[1:], strict=False)]
    played_gaps = [b[0] - a[0] for a, b in zip(played, played[1:], strict=False)]
    # The phrase was played at 120 BPM; its second half is answered at 90: gaps grow by 4/3.
    assert gaps[0] == pytest.approx(played_gaps[0], abs=0.02)
    assert gaps[-2:] == pytest.approx([g * 120 / 90 for g in played_gaps[-2:]], abs=0.025)


async def until_sounding(frontend: MidiFrontend, timeout: float = 2.0) -> Any:
    """The notes sounding on the output, once there are some (a loaded machine may start the
    response a bar later than first planned)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not frontend.sender.sounding() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    return frontend.sender.sounding()


@retried_after_xruns
def test_stop_and_panic_leave_no_note_sounding(jack: JackServer, tmp_path: Path) -> None:
    async def scenario(core: Any, frontend: MidiFrontend, driver: Driver) -> Any:
        await start_playing(core, driver, FAST)
        # A long held note: the response will be sounding it when the DAW stops.
        driver.send(0x90, 48, 100)
        await asyncio.sleep(0.4)
        driver.send(0x80, 48, 0)
        trigger(driver)
        anchor = (await response_on(frontend)).anchor_beat
        await until_beat(core, anchor + 0.5)
        sounding_before_stop = await until_sounding(frontend)
        driver.stop_clock(send_stop=True)
        await asyncio.sleep(0.1)
        after_stop = driver.messages()
        # Now the panic CC, in the middle of the next response.
        await start_playing(core, driver, FAST)
        driver.send(0x90, 50, 100)
        await asyncio.sleep(0.4)
        driver.send(0x80, 50, 0)
        trigger(driver)
        anchor = (await response_on(frontend)).anchor_beat
        await until_beat(core, anchor + 0.5)
        sounding_before_panic = await until_sounding(frontend)
        driver.send(0xB0, PANIC_CC, 127)
        await asyncio.sleep(0.1)
        pending = frontend.core.scheduler.pending()
        await asyncio.sleep(0.45)  # past where the held note would have ended
        return sounding_before_stop, after_stop, sounding_before_panic, pending, driver.messages()

    before_stop, after_stop, before_panic, pending, messages = run(
        jack, tmp_path, scenario, sections=ON_THE_BEAT
    )
    assert before_stop == [(0, 48)] and before_panic == [(0, 50)]
    assert balanced(after_stop)
    assert (0xB0, 123, 0) in [m.data for m in after_stop]  # All Notes Off on stop too
    assert balanced(messages)
    assert pending == 0
    # Nothing but the two notes (and the panic's All Notes Off) ever came out.
    assert [m.data[1] for m in messages if m.kind == "on"] == [48, 50]
    assert (0xB0, 123, 0) in [m.data for m in messages]


@retried_after_xruns
def test_model_error_silences_and_server_keeps_serving(jack: JackServer, tmp_path: Path) -> None:
    class BreaksMidway(EchoContinuer):
        model_id = "test-breaks"

        def run(self, job: host.Job) -> Iterator[NotesOutput]:
            primer = job.inputs["primer"]
            yield NotesOutput([replace(primer[0], start=0.0, duration=4.0)], final=False)
            raise RuntimeError("out of memory, say")

    async def scenario(core: Any, frontend: MidiFrontend, driver: Driver) -> Any:
        await start_playing(core, driver, FAST)
        await play_phrase(driver, [62])
        trigger(driver)
        response = await response_on(frontend)
        await asyncio.sleep(0.1)
        errored = response.error
        # The model failed before the note's time: the note never sounds, nothing is pending.
        await until_beat(core, response.anchor_beat + 1)
        return errored, driver.messages(), core.scheduler.pending()

    errored, messages, pending = run(jack, tmp_path, scenario, BreaksMidway(), sections=ON_THE_BEAT)
    assert errored is not None and errored.code.value == "model_error"
    assert "out of memory" in errored.message
    assert [m for m in messages if m.kind == "on"] == [] and pending == 0


@retried_after_xruns
def test_cc_sets_options_and_program_change_selects_the_model(
    jack: JackServer, tmp_path: Path
) -> None:
    async def scenario(core: Any, frontend: MidiFrontend, driver: Driver) -> Any:
        await start_playing(core, driver, FAST)
        # fake-echo's options map onto CC 22 (repeats 1..8), 23 (temperature): 127 -> 8 repeats.
        driver.send(0xB0, 22, 127)
        await play_phrase(driver, [60])
        trigger(driver)
        echo = await response_on(frontend)
        await asyncio.sleep(0.25)
        options = dict(frontend.controls.options())
        driver.send(0xC0, 1)  # program 1: the second continue model by id, test-transposer
        await play_phrase(driver, [60])
        trigger(driver)
        transposed = await response_on(frontend, replacing=echo)
        await until_beat(core, transposed.anchor_beat + 1)
        return options, echo.playback.scheduled_notes, transposed, driver.messages("on")

    options, echo_notes, transposed, ons = run(
        jack, tmp_path, scenario, EchoContinuer(), Transposer(), sections=ON_THE_BEAT
    )
    assert options == {"repeats": 8}
    assert echo_notes == 8
    assert transposed.request_id and 67 in [m.data[1] for m in ons]


@retried_after_xruns
def test_garbage_input_neither_crashes_nor_stalls(jack: JackServer, tmp_path: Path) -> None:
    async def scenario(core: Any, frontend: MidiFrontend, driver: Driver) -> Any:
        await start_playing(core, driver, FAST)
        garbage = [
            [0x3C, 0x64],  # running-status data bytes with no status
            [0xF0] + [0x11] * 3000 + [0xF7],  # a large sysex
            [0x90, 0x80],  # a note-on with a status byte where data belongs
            [0xF4],
            [0xF5, 1, 2],
            [0xFD],  # undefined status bytes
            [0xF2, 0x7F],  # song position pointer missing a byte
            [0xB0, 0x16],  # a CC without its value
        ]
        for _ in range(50):
            for data in garbage:
                driver.send(*data)
        for pitch in range(100):  # notes without note-off
            driver.send(0x91, pitch, 1)
        for _ in range(2000):  # a clock storm
            driver.send(0xF8)
        await asyncio.sleep(0.3)
        driver.stop_clock()
        driver.start_clock(FAST)
        await asyncio.sleep(0.6)
        tempo = core.transport.tempo
        await play_phrase(driver, [72])
        trigger(driver)
        response = await response_on(frontend)
        await until_beat(core, response.anchor_beat + 1)
        return tempo, driver.messages("on"), frontend.follower.estimator.rejected

    tempo, ons, rejected = run(jack, tmp_path, scenario, sections=ON_THE_BEAT)
    assert tempo == pytest.approx(FAST, rel=0.03)
    assert rejected > 0
    assert [m.data[1] for m in ons] == [72]


def test_no_jack_server_is_a_clear_error_and_the_server_keeps_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "dawhost-test-no-such-server")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")

    async def main() -> tuple[str | None, Any]:
        core = make_core(tmp_path, EchoContinuer(), FailingModel(), midi_api="jack")
        frontend = MidiFrontend()
        with caplog.at_level(logging.ERROR):
            await frontend.start(core)  # returns: the server goes on without MIDI
        events: list[Any] = []
        core.submit(
            Request("1", "fake-echo", "continue", inputs={"primer": [[60, 90, 0, 1]]}),
            events.append,
        )
        # The job runs in a worker process that can take seconds to spawn on a loaded machine:
        # wait for its end (the point is that the core still serves), not for a fixed second.
        for _ in range(3000):
            await asyncio.sleep(0.01)
            if events and events[-1].type in ("done", "error"):
                break
        await frontend.stop()
        await core.shutdown()
        return frontend.error, events[-1]

    error, last = run_plain(main())
    assert error is not None and "JACK" in error and "--no-midi" in error
    assert "MIDI is off" in caplog.text
    assert last.type == "done"


def test_unknown_api_names_the_choices(tmp_path: Path) -> None:
    async def main() -> str | None:
        core = make_core(tmp_path, EchoContinuer(), midi_api="beos")
        frontend = MidiFrontend()
        await frontend.start(core)
        await frontend.stop()
        await core.shutdown()
        return frontend.error

    error = run_plain(main())
    assert error is not None and "'beos'" in error and "jack" in error and "alsa" in error


def run_plain(coro: Any) -> Any:
    return asyncio.run(coro)


@retried_after_xruns
def test_existing_ports_are_opened_by_name(jack: JackServer, tmp_path: Path) -> None:
    """`[midi] input/output` connect to a keyboard's and a synth's ports instead of virtual
    ones; with the transport stopped, the answer plays in free time."""
    keyboard = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="keyboard")
    keyboard.open_virtual_port("keys out")
    synth = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="synth")
    synth.open_virtual_port("synth in")

    async def main() -> tuple[str, list[list[int]], str | None]:
        sections = {"midi": {"input": "keys out", "output": "synth in", "lead_beats": 0.25}}
        core = make_core(tmp_path, EchoContinuer(), midi_api="jack", sections=sections)
        frontend = MidiFrontend()
        await frontend.start(core)
        core.scheduler.start()
        received: list[list[int]] = []
        try:
            for message in ([0x90, 65, 90], [0x80, 65, 0], [0xB0, TRIGGER_CC, 127]):
                await asyncio.sleep(0.1)
                keyboard.send_message(message)
            for _ in range(3000):  # up to 30 s: the echo job's worker may be slow to spawn
                await asyncio.sleep(0.01)
                while (item := synth.get_message()) is not None:
                    received.append(item[0])
                if len(received) >= 2:
                    break
        finally:
            await frontend.stop()
            await core.shutdown()
        wrong = make_core(tmp_path, midi_api="jack", sections={"midi": {"input": "no such"}})
        failed = MidiFrontend()
        await failed.start(wrong)
        await failed.stop()
        await wrong.shutdown()
        return frontend.address, received, failed.error

    try:
        address, received, error = asyncio.run(main())
    finally:
        for port in (keyboard, synth):
            port.close_port()
            port.delete()
    assert "keys out" in address and "synth in" in address
    assert received[:2] == [[0x90, 65, 90], [0x80, 65, 64]]
    assert error is not None and "no MIDI input ports match 'no such'" in error
    assert "keys out" in error  # the available ports are listed


TRANSCRIBE_CC, TRANSCRIBE_CONTINUE_CC = 14, 15
TAKE = [62, 65, 69, 72, 74, 76, 77, 79]  # two bars of one tone per beat at FAST


async def until(condition: Any, timeout: float = 30.0) -> bool:
    """Poll `condition` on the loop for up to `timeout` seconds (generous: a loaded machine
    may take seconds to start a worker)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.01)
    return bool(condition())


def _transcribe_settings(audio: Path | str, **more: Any) -> dict[str, Any]:
    return {"midi": {"transcribe_audio": str(audio), "transcribe_bars": 1, **more}}


@pytest.mark.parametrize("cc", [TRANSCRIBE_CC, TRANSCRIBE_CONTINUE_CC])
@retried_after_xruns
def test_a_cc_transcribes_the_last_bars_of_the_audio_file_into_the_output(
    jack: JackServer, tmp_path: Path, cc: int
) -> None:
    """CC 14: the last bar of the take comes out as notes, one per beat from the next bar
    line; CC 15: the same bar transcribed, then continued (the echo model repeats it)."""
    from tests.fakes import FakeTranscriber, write_tones

    take = write_tones(tmp_path / "take.wav", TAKE, tempo=FAST)

    async def scenario(core: Any, frontend: MidiFrontend, driver: Driver) -> Any:
        await start_playing(core, driver, FAST)
        driver.send(0xB0 | 2, cc, 127)  # on channel 3
        driver.send(0xB0 | 2, cc, 0)
        response = await response_on(frontend, channel=2)
        assert await until(lambda: response.finished), "no answer within 30 s"
        assert response.error is None, response.error
        assert await until(lambda: len(driver.messages("off")) >= 4)
        return response.anchor_beat, driver.tick_times, driver.messages()

    anchor, ticks, messages = run(
        jack,
        tmp_path,
        scenario,
        EchoContinuer(),
        FakeTranscriber(),
        sections=_transcribe_settings(take),
    )
    ons = [m for m in messages if m.kind == "on"]
    assert [m.data[1] for m in ons] == TAKE[4:]  # the last bar only
    assert {m.data[0] for m in ons} == {0x92}  # on the channel the CC came from
    assert anchor % 4 == 0
    # One note per beat of the sender's clock from the bar line (loose, 30 ms: shared CI).
    for beat, on in enumerate(ons):
        assert on.time - ticks[int((anchor + beat) * 24)] == pytest.approx(0.0, abs=0.03)
    assert balanced(messages)


@retried_after_xruns
def test_the_transcribe_cc_with_no_file_or_a_bad_one_plays_nothing(
    jack: JackServer, tmp_path: Path
) -> None:
    from tests.fakes import FakeTranscriber

    async def scenario(core: Any, frontend: MidiFrontend, driver: Driver) -> Any:
        await start_playing(core, driver, FAST)
        driver.send(0xB0, TRANSCRIBE_CC, 127)
        driver.send(0xB0, TRANSCRIBE_CC, 0)
        response = await response_on(frontend)
        assert await until(lambda: response.finished)
        # the front-end still answers: a phrase and the trigger get their echo
        await play_phrase(driver, PHRASE)
        trigger(driver)
        echo = await response_on(frontend, replacing=response)
        assert await until(lambda: len(driver.messages("on")) >= 3)
        return response.error, echo.error, driver.messages("on")

    missing = tmp_path / "never-recorded.wav"
    error, echo_error, ons = run(
        jack,
        tmp_path,
        scenario,
        EchoContinuer(),
        FakeTranscriber(),
        sections=_transcribe_settings(missing),
    )
    assert error is not None and error.code.value == "bad_input" and error.field == "audio"
    assert "never-recorded.wav" in error.message
    assert echo_error is None and [m.data[1] for m in ons] == PHRASE


def test_a_failure_is_retried_only_after_an_xrun(tmp_path: Path) -> None:
    server = JackServer("fake", tmp_path / "jackd.log")
    server.log.write_text("")
    calls: list[Path] = []

    @retried_after_xruns
    def flaky(jack: JackServer, tmp_path: Path) -> None:
        calls.append(tmp_path)
        if len(calls) == 1:  # a missed cycle during the first attempt
            with jack.log.open("a") as log:
                log.write("JackEngine::XRun: client = driver-in was not finished\n")
        assert len(calls) > 1

    flaky(jack=server, tmp_path=tmp_path)
    assert len(calls) == 2 and calls[0] != calls[1] and all(p.is_dir() for p in calls)

    @retried_after_xruns
    def broken(jack: JackServer, tmp_path: Path) -> None:
        calls.append(tmp_path)
        raise AssertionError("wrong without any xrun")

    calls.clear()
    (tmp_path / "again").mkdir()
    with pytest.raises(AssertionError, match="without any xrun"):
        broken(jack=server, tmp_path=tmp_path / "again")
    assert len(calls) == 1
