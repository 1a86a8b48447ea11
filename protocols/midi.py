"""The MIDI front-end: a DAW track plays into `dawhost in`; continuations come out of `dawhost out`.

Input: notes (the phrase to continue, per channel), MIDI clock/Start/Stop/Continue/Song Position
(the transport), CCs (model options, the trigger, panic), program change (which model). Output:
the continuation's notes on the transport grid, streamed as the model generates them.

Threads: an input thread polls rtmidi (protocols.midi_input) and calls `_receive` with each
message's arrival time. Real-time messages are applied to the Transport right there; everything
else is handed to the event loop with `call_soon_threadsafe`. Notes go out from the scheduler
thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import mido

import host
from host.core import Core
from host.model import Capability
from host.options import option_specs
from host.requests import Step
from host.transport import TransportSnapshot
from protocols.call_response import FreeBeats, PhraseRecorder, Response
from protocols.midi_clock import ClockFollower
from protocols.midi_control import ModelControls, audio_input, primer_input, transcriber
from protocols.midi_input import InputPump
from protocols.midi_output import NoteSender
from protocols.midi_ports import MidiPorts, MidiUnavailable, open_ports
from protocols.midi_settings import MidiSettings
from protocols.ratelimit import LogLimiter

log = logging.getLogger(__name__)

ALL_SOUND_OFF, ALL_NOTES_OFF = 120, 123
MAX_QUEUED = 10_000  # messages waiting for the loop; beyond this a flood is being dropped
WATCH_INTERVAL = 0.01  # seconds between checks for the silence trigger
# A note held this long with nothing else played is a lost note-off: it no longer keeps the
# silence trigger from answering.
STALE_HELD_BEATS = 16.0


class MidiFrontend(host.Frontend):
    name = "midi"

    def __init__(self, port_opener: Callable[[str, str, str], MidiPorts] = open_ports) -> None:
        """`port_opener(api, input_name, output_name)` opens the ports (tests pass fakes)."""
        self._open_ports = port_opener
        self.core: Core | None = None
        self.ports: MidiPorts | None = None
        self.sender: NoteSender | None = None
        self.follower: ClockFollower | None = None
        self.settings = MidiSettings()
        self.controls: ModelControls | None = None
        self.recorder: PhraseRecorder | None = None
        self.responses: dict[int, Response] = {}  # channel -> the response playing there
        self.finished: list[Response] = []  # recent responses (benchmarks read these)
        self.error: str | None = None  # why MIDI is not running, when it is not
        self.address = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queued = 0
        self._dropped = 0
        self._watcher: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._was_playing = False
        self._cc_state: dict[tuple[int, int], int] = {}
        self._limiter = LogLimiter(log, per_second=5)
        self._silence_answered: dict[int, float] = {}  # channel -> the silence last acted on
        self.link: Any = None
        self.latency_seconds = 0.0  # send this much before the beat (midi_latency_ms)
        self._pump: InputPump | None = None
        self._free_beats = FreeBeats()

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self, core: Core) -> None:
        """Open the ports. Without a working MIDI backend, log why and return: the other
        front-ends keep serving (`self.error` keeps the reason)."""
        self.core = core
        self._loop = asyncio.get_running_loop()
        self.settings = MidiSettings.from_section(core.config.sections.get("midi", {}))
        self.controls = ModelControls(core, self.settings)
        self.recorder = PhraseRecorder(self._beat_at)
        self.follower = ClockFollower(core.transport)
        if core.config.link:
            from protocols.link import LinkFollower

            self.link = LinkFollower(core.transport)
            await self.link.start()
        try:
            self.ports = self._open_ports(
                core.config.midi_api, self.settings.input, self.settings.output
            )
        except MidiUnavailable as exc:
            self.error = str(exc)
            self.address = "off (no MIDI backend; see the error above)"
            log.error("MIDI is off: %s", exc)
            return
        self.sender = NoteSender(self.ports.output, time.monotonic)
        latency = core.config.midi_latency_ms
        if (
            isinstance(latency, bool)
            or not isinstance(latency, (int, float))
            or not (-1000 <= latency <= 1000)
        ):
            log.error("midi_latency_ms = %r must be -1000..1000 ms; using 0", latency)
            latency = 0.0
        self.latency_seconds = float(latency) / 1000.0
        self._was_playing = core.transport.playing
        self._unsubscribe = core.transport.subscribe(self._transport_changed)
        self._watcher = asyncio.create_task(self._watch(), name="midi-silence-trigger")
        self._pump = InputPump(self.ports.input, self._receive, self.ports.input_name)
        self._pump.start()
        self.address = f"{self.ports.input_name} / {self.ports.output_name} ({self.ports.api})"
        log.info("MIDI ready: %s", self.address)

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.stop()
            self._pump = None
        self.cancel_all()
        if self.sender is not None:
            self.sender.panic()
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        if self._watcher is not None:
            self._watcher.cancel()
            try:
                await self._watcher
            except asyncio.CancelledError:
                pass
            self._watcher = None
        if self.link is not None:
            await self.link.stop()
            self.link = None
        if self.ports is not None:
            self.ports.close()
            self.ports = None

    # --- input thread ----------------------------------------------------------------------
    def _receive(self, message: mido.Message, when: float) -> None:
        """The input thread, with the message's arrival time: never raise, never block."""
        try:
            kind = message.type
            follower = self.follower
            assert follower is not None
            if kind == "clock":
                follower.clock(when)
            elif kind == "start":
                follower.start()
            elif kind == "continue":
                follower.continue_()
            elif kind == "stop":
                follower.stop(when)
            elif kind == "songpos":
                follower.song_position(message.pos)
            elif kind in ("note_on", "note_off", "control_change", "program_change"):
                self._to_loop(message, when)
        except Exception as exc:
            self._limiter.warning("MIDI input handler failed on %r: %r", message, exc)

    def _to_loop(self, message: mido.Message, when: float) -> None:
        if self._queued >= MAX_QUEUED:
            self._dropped += 1
            self._limiter.warning("MIDI input flood: %d messages dropped", self._dropped)
            return
        assert self._loop is not None
        self._queued += 1
        try:
            self._loop.call_soon_threadsafe(self._handle, message, when)
        except RuntimeError:  # the loop is closing
            self._queued -= 1

    # --- event loop ------------------------------------------------------------------------
    def _handle(self, message: mido.Message, when: float) -> None:
        self._queued -= 1
        try:
            self._dispatch(message, when)
        except Exception as exc:
            self._limiter.warning("MIDI message %r could not be handled: %r", message, exc)

    def _dispatch(self, message: mido.Message, when: float) -> None:
        assert self.recorder is not None and self.controls is not None
        channel = message.channel
        kind = message.type
        if kind == "note_on" and message.velocity > 0:
            if message.note == self.settings.trigger_note:
                self.trigger(channel)
            else:
                self.recorder.note_on(channel, message.note, message.velocity, when)
        elif kind in ("note_on", "note_off"):
            if message.note != self.settings.trigger_note:
                self.recorder.note_off(channel, message.note, when)
        elif kind == "control_change":
            self._control(channel, message.control, message.value, when)
        elif kind == "program_change":
            self.controls.program_change(message.program)

    def _control(self, channel: int, control: int, value: int, when: float) -> None:
        assert self.recorder is not None and self.controls is not None
        previous = self._cc_state.get((channel, control), 0)
        self._cc_state[(channel, control)] = value
        pressed = value >= 64 and previous < 64  # act once per press, not on every value
        if control == self.settings.panic_cc:
            if pressed:
                self.panic()
        elif control == self.settings.trigger_cc:
            if pressed:
                self.trigger(channel)
        elif control in (self.settings.transcribe_cc, self.settings.transcribe_continue_cc):
            if pressed:
                self.transcribe(channel, then_continue=control != self.settings.transcribe_cc)
        elif control in (ALL_SOUND_OFF, ALL_NOTES_OFF):
            self.recorder.release_all(channel, when)
        else:
            spec = self.controls.control_change(control, value)
            if spec is not None:
                log.debug("CC %d -> %s = %r", control, spec.name, self.controls.options())

    def trigger(self, channel: int, phrase_end: float | None = None) -> Response | None:
        """Ask for a continuation of `channel`'s phrase up to `phrase_end` (monotonic time;
        default now), replacing a response playing there."""
        assert self.core is not None and self.recorder is not None and self.controls is not None
        if self.sender is None:
            return None
        model = self.controls.current()
        if model is None:
            log.warning("MIDI trigger ignored: no continue_midi model is loaded")
            return None
        beats = self.settings.primer_bars * self.core.transport.beats_per_bar
        when = time.monotonic() if phrase_end is None else phrase_end
        primer = self.recorder.take(channel, beats, when)
        if not primer:
            log.info("MIDI trigger on channel %d ignored: nothing played to continue", channel + 1)
            return None
        response = self._start_response(channel)
        name = primer_input(model)
        assert name is not None
        response.ask(model.model_id, name, primer, self.controls.options())
        return response

    def transcribe(self, channel: int, then_continue: bool = False) -> Response | None:
        """Transcribe the last `transcribe_bars` bars of `[midi] transcribe_audio` and play the
        notes from the next line on `channel`; with `then_continue`, continue them with the
        current model in the same request (a chain) and play the continuation instead."""
        assert self.core is not None and self.controls is not None
        if self.sender is None:
            return None
        audio = self.settings.transcribe_audio
        model = transcriber(self.core)
        problem = (
            "set [midi] transcribe_audio to the audio file to listen to"
            if not audio
            else "no transcribe model is loaded"
            if model is None
            else ""
        )
        continuer = self.controls.current() if then_continue else None
        if then_continue and continuer is None:
            problem = problem or "no continue_midi model is loaded"
        if problem:
            log.warning("MIDI transcribe CC ignored: %s", problem)
            return None
        assert model is not None
        options: dict[str, Any] = {}
        if any(spec.name == "last_bars" for spec in option_specs(model.Options)):
            options["last_bars"] = self.settings.transcribe_bars
        heard = {audio_input(model) or "audio": audio}
        response = self._start_response(channel)
        if continuer is not None:
            primer = primer_input(continuer)
            assert primer is not None
            step = Step(model.model_id, None, options, heard)
            response.send(continuer.model_id, "continue", self.controls.options(), {primer: step})
        else:
            response.send(model.model_id, Capability.TRANSCRIBE.verb, options, heard)
        return response

    def _start_response(self, channel: int) -> Response:
        """A new response on `channel`, replacing (cancelling) the one playing there."""
        assert self.core is not None and self.sender is not None
        old = self.responses.pop(channel, None)
        if old is not None:
            old.cancel()
        response = Response(
            self.core,
            self.sender,
            channel,
            unit_beats=self.core.transport.beats_per_bar if self.settings.align == "bar" else 1.0,
            lead_beats=self.settings.lead_beats,
            lead_seconds=self.latency_seconds,
            on_finished=self._finished,
        )
        self.responses[channel] = response
        return response

    def panic(self) -> None:
        """Cancel every response and silence the output."""
        self.cancel_all()
        if self.sender is not None:
            self.sender.panic()

    def cancel_all(self) -> None:
        for response in list(self.responses.values()):
            response.cancel()
        self.responses.clear()

    def _finished(self, response: Response) -> None:
        self.finished = (self.finished + [response])[-32:]

    async def _watch(self) -> None:
        """The silence trigger: N beats without notes after playing."""
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            if self.settings.silence_beats <= 0 or self.recorder is None or self.core is None:
                continue
            beat_seconds = 60.0 / self.core.transport.tempo
            seconds = self.settings.silence_beats * beat_seconds
            now = time.monotonic()
            held_before = now - STALE_HELD_BEATS * beat_seconds
            for channel in list(self.recorder.channels):
                since = self.recorder.silent_since(channel, held_before)
                if since is None or now - since < seconds:
                    continue
                if self._silence_answered.get(channel) == since:
                    continue  # tried for this silence already (e.g. no model was loaded)
                self._silence_answered[channel] = since
                try:
                    # The phrase as it stood when the silence was long enough: the same as now,
                    # unless a lost note-off kept the channel "sounding" for a while.
                    self.trigger(channel, phrase_end=min(now, since + seconds))
                except Exception as exc:
                    self._limiter.warning("silence trigger failed (channel %d): %r", channel, exc)

    # --- transport -------------------------------------------------------------------------
    def _beat_at(self, when: float) -> float:
        """Beats for recording: the transport's position while it plays, else free time."""
        assert self.core is not None
        transport = self.core.transport
        if transport.playing:
            return transport.beat_at(when)
        return self._free_beats.at(when, transport.tempo)

    def _transport_changed(self, snapshot: TransportSnapshot) -> None:
        """On stop, withdraw every response: the grid they were placed on is gone. On start
        or stop, forget recorded phrases: their beats belong to the old timeline."""
        was_playing, self._was_playing = self._was_playing, snapshot.playing
        if was_playing == snapshot.playing or self._loop is None:
            return
        if was_playing:
            for response in list(self.responses.values()):
                response.playback.cancel()  # thread-safe; note-offs now, from this thread
                self._loop.call_soon_threadsafe(response.cancel)
            if self.responses and self.sender is not None:
                self.sender.panic()  # and All Notes Off, for a synth that missed a note-off
        self._loop.call_soon_threadsafe(self._forget_phrases)

    def _forget_phrases(self) -> None:
        if self.recorder is not None:
            self.recorder.channels.clear()


@host.hookimpl
def register_frontends() -> Iterator[host.Frontend]:
    yield MidiFrontend()
