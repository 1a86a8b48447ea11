"""MIDI front-end pieces without JACK: note bookkeeping, phrases, settings, CC scaling, Link,
and the front-end itself on in-memory ports (silence trigger, free time, floods)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import mido
import pytest

from host.outputs import Note, NotesOutput
from host.scheduler import Scheduler
from host.transport import Transport, TransportSource
from protocols.call_response import FreeBeats, PhraseRecorder
from protocols.link import LinkFollower
from protocols.midi import MidiFrontend
from protocols.midi_control import ModelControls
from protocols.midi_input import InputPump
from protocols.midi_output import NoteSender, Playback
from protocols.midi_ports import MidiPorts, MidiUnavailable, api_candidates
from protocols.midi_settings import MidiSettings
from tests.fakes import EchoContinuer, SineRenderer, make_core


class MemoryOut:
    name = "memory out"

    def __init__(self) -> None:
        self.sent: list[tuple[float, mido.Message]] = []

    def send(self, message: mido.Message) -> None:
        self.sent.append((time.monotonic(), message))

    def close(self) -> None:
        pass


class MemoryIn:
    """Stands in for a raw rtmidi input: nothing arrives (tests call `_receive` directly)."""

    def get_message(self) -> None:
        return None

    def close(self) -> None:
        pass


def kinds(sent: list[tuple[float, mido.Message]]) -> list[tuple[str, int]]:
    out = []
    for _, m in sent:
        if m.type == "note_on" and m.velocity:
            out.append(("on", m.note))
        elif m.type in ("note_on", "note_off"):
            out.append(("off", m.note))
        else:
            out.append((m.type, getattr(m, "control", -1)))
    return out


# --- NoteSender / Playback ---------------------------------------------------------------
def test_retriggered_pitch_is_ended_first_and_stale_offs_are_ignored() -> None:
    port = MemoryOut()
    sender = NoteSender(port, time.monotonic)
    first = sender.note_on(0, 60, 100)
    second = sender.note_on(0, 60, 90)  # same pitch again before the first ended
    sender.note_off(0, 60, first)  # the first note's off must not cut the second
    assert sender.sounding() == [(0, 60)]
    sender.note_off(0, 60, second)
    assert kinds(port.sent) == [("on", 60), ("off", 60), ("on", 60), ("off", 60)]
    sender.note_on(3, 40, 100)
    sender.panic()
    assert kinds(port.sent)[-3:] == [("off", 40), ("control_change", 123), ("control_change", 123)]
    assert sender.sounding() == []


def test_a_note_mido_cannot_encode_is_not_sent_and_panic_still_works() -> None:
    port = MemoryOut()
    sender = NoteSender(port, time.monotonic)
    sender.note_on(0, 60, 100)
    token = sender.note_on(0, 132, 100)  # a plugin's transposition ran off the keyboard
    sender.note_off(0, 132, token)
    assert sender.sounding() == [(0, 60)]
    sender.panic()
    assert kinds(port.sent) == [("on", 60), ("off", 60), ("control_change", 123)]


def test_cancelled_playback_silences_sounding_notes_and_drops_pending_ones() -> None:
    transport = Transport(tempo=600.0)  # a beat is 0.1 s
    transport.play()
    scheduler = Scheduler(transport)
    port = MemoryOut()
    sender = NoteSender(port, time.monotonic)
    playback = Playback(sender, scheduler, channel=2)
    start = transport.next_boundary(1.0) + 1
    for i in range(8):
        playback.add(Note(60 + i, 100, 0.0, 2.0), start + i)
    try:
        time.sleep(transport.time_at(start + 2.5) - time.monotonic())
        playback.cancel()
        time.sleep(0.3)
    finally:
        scheduler.stop()
    events = kinds(port.sent)
    ons = [pitch for kind, pitch in events if kind == "on"]
    offs = [pitch for kind, pitch in events if kind == "off"]
    assert ons == [60, 61, 62] and sorted(offs) == ons
    assert playback.pending() == 0 and sender.sounding() == []


def test_latency_compensation_sends_early_by_the_setting() -> None:
    transport = Transport(tempo=120.0)
    transport.play()
    scheduler = Scheduler(transport)
    port = MemoryOut()
    sender = NoteSender(port, time.monotonic)
    playback = Playback(sender, scheduler, channel=0, lead_seconds=0.040)
    beat = transport.beat_at() + 0.4
    playback.add(Note(60, 100, 0.0, 0.1), beat)
    try:
        time.sleep(0.3)
    finally:
        scheduler.stop()
    sent_at = port.sent[0][0]
    # 40 ms early, not on the beat; loose because the machine is shared (the scheduler's
    # precision is measured in benchmarks/bench_scheduler.py).
    assert sent_at - transport.time_at(beat) == pytest.approx(-0.040, abs=0.015)


# --- phrases -------------------------------------------------------------------------------
def test_phrase_takes_the_last_bars_and_closes_held_notes() -> None:
    recorder = PhraseRecorder(lambda when: when * 2.0)  # 120 BPM: two beats a second
    recorder.note_on(0, 50, 80, 1.0)  # beat 2: outside a 4-beat window ending at beat 8
    recorder.note_off(0, 50, 1.5)
    recorder.note_on(0, 60, 100, 2.5)  # beat 5
    recorder.note_off(0, 60, 3.0)
    recorder.note_on(0, 62, 90, 3.5)  # beat 7, still held at beat 8
    recorder.note_on(0, 62, 91, 3.6)  # a second note-on, no off between: the first ends
    recorder.note_on(1, 70, 100, 3.0)  # another channel
    notes = recorder.take(0, 4.0, 4.0)
    assert notes == [
        Note(60, 100, 1.0, 1.0),
        Note(62, 90, 3.0, pytest.approx(0.2)),
        Note(62, 91, pytest.approx(3.2), pytest.approx(0.8)),
    ]
    assert recorder.silent_since(0) is None  # nothing new since it was taken (and 62 is held)
    assert recorder.silent_since(1) is None  # 70 is held
    assert recorder.silent_since(1, held_before=2.9) is None  # and was pressed after 2.9
    assert recorder.silent_since(1, held_before=3.1) == 3.0  # its note-off was lost
    recorder.release_all(1, 3.2)
    assert recorder.silent_since(1) == 3.2


# --- settings and controls -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"trigger_cc": 128}, "trigger_cc = 128"),
        ({"align": "bars"}, "align = 'bars'"),
        ({"primer_bars": 0}, "primer_bars = 0"),
        ({"triger_cc": 20}, "no setting 'triger_cc'"),
        ({"options_cc": {"x": "temperature"}}, "'x' is not a CC number"),
        ({"transcribe_cc": 200}, "transcribe_cc = 200"),
        ({"transcribe_bars": 0}, "transcribe_bars = 0"),
        ({"transcribe_audio": 3}, "transcribe_audio = 3"),
    ],
)
def test_bad_settings_name_the_key(section: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        MidiSettings.from_section(section)


def test_cc_scales_onto_option_bounds_and_program_change_checks_range(tmp_path: Path) -> None:
    core = make_core(tmp_path, EchoContinuer(), SineRenderer())
    controls = ModelControls(core, MidiSettings())
    assert controls.model_id == "fake-echo"  # the only continue_midi model
    cc = {spec.name: number for number, spec in controls.cc_map().items()}
    assert cc == {"repeats": 22, "temperature": 23}  # `style` has no bounds: not mapped
    controls.control_change(22, 0)
    controls.control_change(23, 127)
    assert controls.options() == {"repeats": 1, "temperature": 2.0}
    controls.control_change(23, 64)
    assert controls.options()["temperature"] == pytest.approx(0.1 + 64 / 127 * 1.9)
    assert not controls.program_change(5)
    assert controls.model_id == "fake-echo"
    explicit = ModelControls(core, MidiSettings(options_cc={74: "temperature"}))
    assert {n: s.name for n, s in explicit.cc_map().items()} == {74: "temperature"}
    # a transcribe CC moved into the options' range is skipped by them, as the trigger is
    moved = ModelControls(core, MidiSettings(transcribe_continue_cc=23))
    assert {s.name: n for n, s in moved.cc_map().items()} == {"repeats": 22, "temperature": 24}


def test_unknown_api_is_refused_by_name() -> None:
    with pytest.raises(MidiUnavailable, match="'beos'.*choose one of: default"):
        api_candidates("beos")
    assert api_candidates("jack") == ["UNIX_JACK"]
    assert api_candidates("default")[0] is None


# --- Link -----------------------------------------------------------------------------------
class FakeLink:
    def __init__(self) -> None:
        self.tempo, self.beat, self.playing = 128.0, 0.0, False


def test_link_session_drives_the_transport_below_midi_clock() -> None:
    transport = Transport()
    link = FakeLink()
    follower = LinkFollower(transport, link)
    follower.sync_once()
    assert transport.tempo == 128.0 and not transport.playing
    link.playing, link.beat = True, 16.0
    follower.sync_once()
    assert transport.playing and transport.beat_at() == pytest.approx(16.0, abs=0.01)
    link.beat = transport.beat_at() + 0.5  # a peer moved the phase: re-anchor
    follower.sync_once()
    assert transport.beat_at() == pytest.approx(link.beat, abs=0.01)
    transport.set_tempo(100, TransportSource.MIDI_CLOCK)  # MIDI clock outranks Link
    link.tempo = 140.0
    follower.sync_once()
    assert transport.tempo == 100


# --- the front-end on memory ports -------------------------------------------------------------
def memory_frontend() -> tuple[MidiFrontend, MemoryIn, MemoryOut]:
    inport, outport = MemoryIn(), MemoryOut()
    frontend = MidiFrontend(port_opener=lambda *a: MidiPorts(inport, outport, "MEMORY"))
    return frontend, inport, outport


def play(frontend: MidiFrontend, *messages: mido.Message) -> None:
    for message in messages:
        frontend._receive(message, time.monotonic())


async def tap(frontend: MidiFrontend, pitch: int) -> None:
    """A short note: on, 50 ms, off."""
    play(frontend, mido.Message("note_on", note=pitch, velocity=100))
    await asyncio.sleep(0.05)
    play(frontend, mido.Message("note_off", note=pitch))


def test_silence_after_playing_triggers_a_response_in_free_time(tmp_path: Path) -> None:
    """With the transport stopped, the response starts half a beat after it is ready."""

    async def main() -> tuple[list[Any], Any]:
        section = {"midi": {"silence_beats": 1.0, "trigger_cc": -1}}
        core = make_core(tmp_path, EchoContinuer(), sections=section)
        await core.engine.warm_up(core.models.values())  # time answers, not start-up
        core.transport.set_tempo(240)  # a beat is 0.25 s
        frontend, inport, outport = memory_frontend()
        await frontend.start(core)
        try:
            for pitch in (60, 62):
                await tap(frontend, pitch)
            silent_from = time.monotonic()
            while not outport.sent and time.monotonic() - silent_from < 2:
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.3)
            return outport.sent, silent_from
        finally:
            await frontend.stop()
            await core.shutdown()

    sent, silent_from = asyncio.run(main())
    ons = [(t, m) for t, m in sent if m.type == "note_on" and m.velocity]
    assert [m.note for _, m in ons] == [60, 62]
    # One beat of silence (0.25 s), then half a beat of lead before the first note.
    assert ons[0][0] - silent_from == pytest.approx(0.375, abs=0.05)
    assert ons[1][0] - ons[0][0] == pytest.approx(0.05, abs=0.02)


def test_a_lost_note_off_does_not_silence_the_silence_trigger(tmp_path: Path) -> None:
    async def main() -> list[tuple[str, int]]:
        section = {"midi": {"silence_beats": 1.0, "trigger_cc": -1}}
        core = make_core(tmp_path, EchoContinuer(), sections=section)
        await core.engine.warm_up(core.models.values())  # time answers, not start-up
        core.transport.set_tempo(960)  # a beat is 62.5 ms: 16 beats of a stuck note in 1 s
        frontend, inport, outport = memory_frontend()
        await frontend.start(core)
        try:
            play(frontend, mido.Message("note_on", note=60, velocity=100))
            play(frontend, mido.Message("note_on", note=64, velocity=100))  # its off is lost
            await asyncio.sleep(0.05)
            play(frontend, mido.Message("note_off", note=60))
            deadline = time.monotonic() + 3
            while not outport.sent and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            return kinds(outport.sent)
        finally:
            await frontend.stop()
            await core.shutdown()

    assert ("on", 60) in asyncio.run(main())


class FailsWhileSounding(EchoContinuer):
    """Plays one long note, then fails while it sounds (a model error mid-response)."""

    model_id = "fake-fails-while-sounding"

    def run(self, job):  # type: ignore[no-untyped-def]
        yield NotesOutput([Note(67, 100, 0.0, 8.0)], final=False)
        time.sleep(0.6)  # the note starts half a beat (0.125 s) after the trigger
        raise RuntimeError("out of memory, say")


def test_a_model_error_while_a_note_sounds_ends_it_at_once(tmp_path: Path) -> None:
    async def main() -> tuple[list[tuple[float, mido.Message]], Any]:
        section = {"midi": {"silence_beats": 1.0, "trigger_cc": -1}}
        core = make_core(tmp_path, FailsWhileSounding(), sections=section)
        await core.engine.warm_up(core.models.values())  # time answers, not start-up
        core.transport.set_tempo(240)  # the 8-beat note would last 2 s
        frontend, inport, outport = memory_frontend()
        await frontend.start(core)
        try:
            await tap(frontend, 60)
            await asyncio.sleep(1.5)
            assert frontend.sender is not None
            return outport.sent, frontend.sender.sounding()
        finally:
            await frontend.stop()
            await core.shutdown()

    sent, sounding = asyncio.run(main())
    notes = [(t, m.type, m.velocity) for t, m in sent if m.type in ("note_on", "note_off")]
    assert [kind for _, kind, _ in notes] == ["note_on", "note_off"] and sounding == []
    assert notes[1][0] - notes[0][0] < 0.9  # cut by the error, not at its written end (2 s)


def test_silence_with_no_model_to_answer_is_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        core = make_core(tmp_path, SineRenderer(), sections={"midi": {"silence_beats": 1.0}})
        await core.engine.warm_up(core.models.values())  # time answers, not start-up
        core.transport.set_tempo(240)
        frontend, inport, outport = memory_frontend()
        await frontend.start(core)
        try:
            await tap(frontend, 60)
            await asyncio.sleep(1.0)  # four beats of silence, checked every 10 ms
        finally:
            await frontend.stop()
            await core.shutdown()

    asyncio.run(main())
    assert caplog.text.count("no continue_midi model is loaded") == 1


def test_free_time_phrase_survives_a_tempo_drift_before_the_trigger(tmp_path: Path) -> None:
    """A DAW sends clock while stopped; its tempo estimate wobbles between the phrase and the
    trigger. The phrase must still be there to continue."""

    async def main() -> list[int]:
        core = make_core(tmp_path, EchoContinuer())
        await core.engine.warm_up(core.models.values())  # time answers, not start-up
        frontend, inport, outport = memory_frontend()
        await frontend.start(core)
        try:
            for pitch in (60, 64):
                play(frontend, mido.Message("note_on", note=pitch, velocity=100))
                await asyncio.sleep(0.02)
                play(frontend, mido.Message("note_off", note=pitch))
            await asyncio.sleep(0.01)
            core.transport.set_tempo(core.transport.tempo + 0.5)
            assert frontend.trigger(0) is not None, "the trigger found no phrase"
            assert frontend.recorder is not None
            return [note.pitch for note in frontend.recorder.take(0, 4, time.monotonic())]
        finally:
            await frontend.stop()
            await core.shutdown()

    assert asyncio.run(main()) == [60, 64]


def test_free_beats_integrate_the_tempo() -> None:
    beats = FreeBeats()
    assert beats.at(1000.0, 120.0) == 0.0
    assert beats.at(1001.0, 120.0) == pytest.approx(2.0)
    assert beats.at(1002.0, 60.0) == pytest.approx(3.0)  # only the new second is slower
    assert beats.at(1001.5, 60.0) == pytest.approx(2.5)  # a late arrival maps back in time


def test_note_flood_without_offs_and_all_notes_off_from_the_player(tmp_path: Path) -> None:
    async def main() -> tuple[int, int, int]:
        core = make_core(tmp_path, EchoContinuer())
        await core.engine.warm_up(core.models.values())  # time answers, not start-up
        frontend, inport, outport = memory_frontend()
        await frontend.start(core)
        try:
            for i in range(30_000):  # more than the loop queue holds: the rest are dropped
                note = mido.Message("note_on", channel=i % 16, note=(i // 16) % 128, velocity=9)
                play(frontend, note)
            await asyncio.sleep(0.2)
            assert frontend.recorder is not None
            held = sum(len(c.held) for c in frontend.recorder.channels.values())
            play(frontend, mido.Message("control_change", channel=3, control=123, value=0))
            await asyncio.sleep(0.05)
            held_after = sum(len(c.held) for c in frontend.recorder.channels.values())
            return held, held_after, frontend._dropped
        finally:
            await frontend.stop()
            await core.shutdown()

    held, held_after, dropped = asyncio.run(main())
    assert held <= 16 * 128  # one held note per channel and pitch, however many note-ons
    assert held_after == held - 128  # channel 4's notes were released
    assert dropped > 0


class SlowDeletableIn:
    """A raw input whose poll is slow (a loaded machine) and which records use after delete:
    a real python-rtmidi port would crash the process there."""

    def __init__(self, poll_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self.polling = threading.Event()
        self.polled = threading.Event()
        self.deleted = False
        self.used_after_delete = False

    def get_message(self) -> tuple[list[int], float] | None:
        self.used_after_delete |= self.deleted
        self.polling.set()
        time.sleep(self.poll_seconds)
        self.used_after_delete |= self.deleted
        self.polled.set()
        return None


def test_a_stopped_pump_never_polls_its_port_again() -> None:
    # Longer than the 2 s join the pump used to give up after before its port was deleted.
    port = SlowDeletableIn(poll_seconds=2.5)
    pump = InputPump(port, lambda message, when: None)
    pump.start()
    assert port.polling.wait(5)
    pump.stop()
    port.deleted = True  # what MidiPorts.close does next
    assert port.polled.wait(5)
    assert not port.used_after_delete
