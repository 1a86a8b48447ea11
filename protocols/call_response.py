"""Call-and-response: record what the player plays, then play a model's continuation on the beat.

`PhraseRecorder` keeps recent notes per channel in transport beats. `Response` is one
continuation: it asks the core for it, and places each batch of notes on the output as it
arrives (ahead of the playhead), starting on the bar line (or beat) chosen when it was asked
for. A first batch that arrives too late for that line moves the start to the next one instead
of playing late; later notes whose time has already passed are dropped, never played late.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from host.core import Core
from host.outputs import Note, NotesOutput
from host.requests import Done, Error, Event, OutputEvent, Request
from host.transport import Transport
from protocols.midi_output import NoteSender, Playback

log = logging.getLogger(__name__)

MAX_NOTES_PER_CHANNEL = 4096  # a note flood must not grow memory without bound
# A batch placed closer to its time than this would be sent late by the time it is scheduled.
SAFETY_SECONDS = 0.003


@dataclass
class _Channel:
    notes: deque[tuple[float, float, int, int]] = field(
        default_factory=lambda: deque(maxlen=MAX_NOTES_PER_CHANNEL)
    )  # (start beat, end beat, pitch, velocity)
    held: dict[int, tuple[float, int]] = field(default_factory=dict)  # pitch -> (start, vel)
    last_activity: float = 0.0  # monotonic time of the last note-on/off
    new_notes: bool = False  # notes arrived since the last response was asked for


class FreeBeats:
    """Beats while the transport is stopped: the tempo integrated over time.

    `when * tempo / 60` would jump by whole bars whenever the tempo estimate moves a little (a
    DAW sends clock while stopped, and monotonic time is large), throwing the recorded phrase
    out of the window it is taken from. Integrating moves only what comes after a change.
    """

    def __init__(self) -> None:
        self._time: float | None = None
        self._beat = 0.0

    def at(self, when: float, tempo: float) -> float:
        if self._time is None:
            self._time = when
        beat = self._beat + (when - self._time) * tempo / 60.0
        if when >= self._time:
            self._time, self._beat = when, beat
        return beat


class PhraseRecorder:
    """What was played, per channel, in beats. All methods run on the event loop."""

    def __init__(self, beat_clock: Callable[[float], float]) -> None:
        self.beat_clock = beat_clock  # monotonic time -> beat
        self.channels: dict[int, _Channel] = {}

    def note_on(self, channel: int, pitch: int, velocity: int, when: float) -> None:
        state = self.channels.setdefault(channel, _Channel())
        if pitch in state.held:  # a second note-on without a note-off: the first one ends
            self.note_off(channel, pitch, when)
        state.held[pitch] = (self.beat_clock(when), velocity)
        state.last_activity = when
        state.new_notes = True

    def note_off(self, channel: int, pitch: int, when: float) -> None:
        state = self.channels.get(channel)
        if state is None or pitch not in state.held:
            return  # a note-off for nothing (or for a note from before we started)
        start, velocity = state.held.pop(pitch)
        end = max(self.beat_clock(when), start + 1e-3)
        state.notes.append((start, end, pitch, velocity))
        state.last_activity = when

    def release_all(self, channel: int, when: float) -> None:
        """All Notes Off from the player's side: close every held note."""
        state = self.channels.get(channel)
        for pitch in list(state.held) if state else []:
            self.note_off(channel, pitch, when)

    def silent_since(self, channel: int, held_before: float = -math.inf) -> float | None:
        """Monotonic time since when the channel is silent with new notes, else None. Held
        notes keep it sounding, unless nothing at all happened on the channel since
        `held_before`: then their note-offs were lost on the way, and they stop counting."""
        state = self.channels.get(channel)
        if state is None or not state.new_notes:
            return None
        if state.held and state.last_activity > held_before:
            return None
        return state.last_activity

    def take(self, channel: int, beats: float, when: float) -> list[Note]:
        """The last `beats` beats up to `when`, as notes from 0 (held notes end at `when`)."""
        state = self.channels.get(channel)
        if state is None:
            return []
        end = self.beat_clock(when)
        start = end - beats
        spans = list(state.notes) + [(s, end, p, v) for p, (s, v) in state.held.items()]
        notes = [
            Note(pitch, velocity, s - start, min(e, end) - s)
            for s, e, pitch, velocity in spans
            if start <= s < end and min(e, end) > s
        ]
        state.new_notes = False
        return sorted(notes, key=lambda n: (n.start, n.pitch))


class Response:
    """One continuation: request, then notes placed on the grid as they stream in."""

    _ids = itertools.count(1)

    def __init__(
        self,
        core: Core,
        sender: NoteSender,
        channel: int,
        unit_beats: float,
        lead_beats: float,
        lead_seconds: float,
        on_finished: Callable[[Response], None] = lambda response: None,
    ) -> None:
        self.core = core
        self.transport: Transport = core.transport
        self.channel = channel
        self.unit_beats = unit_beats
        self.lead_beats = lead_beats
        self.playback = Playback(sender, core.scheduler, channel, lead_seconds)
        self.request_id = f"midi-{next(self._ids)}"
        self.client = "midi"  # the core's name for who asked (cancel needs it)
        self.on_finished = on_finished
        self.anchor_beat: float | None = None  # transport beat of the continuation's beat 0
        self.anchor_time: float | None = None  # free-time start when the transport is stopped
        self.triggered_at = 0.0
        self.first_note_at: float | None = None  # monotonic time of the first scheduled note
        self.first_output_at: float | None = None  # when the model's first notes arrived
        self.first_note_beat: float | None = None  # transport beat of the first note
        self.dropped = 0
        self.late: list[Note] = []  # the notes dropped for coming too late (as the model sent)
        self.stream: str | None = None  # the name of the output stream being played
        self.finished = False
        self.error: Error | None = None

    def begin(self, start_beat: float | None = None) -> float | None:
        """Choose where the continuation's beat 0 lands: `start_beat` if given, else the next
        line (bar or beat) at least `lead_beats` ahead. None while the transport is stopped
        (notes then play in free time from the first batch)."""
        self.triggered_at = time.monotonic()
        if self.transport.playing:
            after = self.transport.beat_at(self.triggered_at) + self.lead_beats
            self.anchor_beat = (
                start_beat
                if start_beat is not None
                else self.transport.next_boundary(self.unit_beats, after)
            )
        return self.anchor_beat

    def ask(self, model_id: str, primer_name: str, primer: list[Note], options: dict) -> None:
        """Send the request; call on the event loop."""
        self.send(model_id, "continue", options, {primer_name: [n.as_list() for n in primer]})

    def send(
        self, model_id: str, verb: str, options: dict[str, Any], inputs: dict[str, Any]
    ) -> None:
        """Ask any notes-making request (a continuation, a transcription, a chain) and play
        its notes from the next line; call on the event loop."""
        self.begin()
        request = Request(
            request_id=self.request_id,
            model_id=model_id,
            verb=verb,
            options=options,
            inputs=inputs,
            start_beat=self.anchor_beat,
            client="midi",
            frontend="midi",
        )
        self.core.submit(request, self.on_event)

    def cancel(self) -> None:
        """Stop generating and silence what this response plays (safe from any thread)."""
        self.playback.cancel()
        if not self.finished:
            self.finished = True
            self.core.cancel(self.client, self.request_id)

    # --- events from the core (on the loop) ------------------------------------------------
    def on_event(self, event: Event) -> None:
        if isinstance(event, OutputEvent) and isinstance(event.output, NotesOutput):
            # A model may stream several variations (notes-1, notes-2, ...): play the first.
            self.stream = self.stream or event.output.name
            if event.output.name == self.stream:
                self._place(event.output.notes)
        elif isinstance(event, Error):
            self.error = event
            if event.code.value != "cancelled":
                log.error("MIDI response %s failed: %s", self.request_id, event.message)
            self.playback.cancel()  # note-offs for whatever already sounds
            self.finished = True
            self.on_finished(self)
        elif isinstance(event, Done):
            if self.playback.scheduled_notes == 0 and not self.dropped:
                log.info("MIDI response %s finished with no notes to play", self.request_id)
            self.finished = True
            self.on_finished(self)

    def _place(self, notes: list[Note]) -> None:
        now = time.monotonic()
        if self.first_output_at is None:
            self.first_output_at = now
        if self.playback.cancelled or not notes:
            return
        if self.anchor_beat is None and not self.transport.playing:
            self._place_free(notes, now)
            return
        if self.anchor_beat is None:  # the transport started after the trigger
            after = self.transport.beat_at(now) + self.lead_beats
            self.anchor_beat = self.transport.next_boundary(self.unit_beats, after)
        if self.playback.scheduled_notes == 0:
            self._move_anchor_if_late(min(n.start for n in notes), now)
        deadline = self.transport.beat_at(now + SAFETY_SECONDS + self.playback.lead_seconds)
        for note in notes:
            beat = self.anchor_beat + note.start
            if beat < deadline:
                self.dropped += 1
                self.late.append(note)
                continue
            self.playback.add(note, beat)
            when = self.transport.time_at(beat)
            if self.first_note_at is None or when < self.first_note_at:
                self.first_note_at = when
                self.first_note_beat = beat
        if self.dropped:
            log.warning("MIDI response %s: %d notes came too late", self.request_id, self.dropped)

    def _move_anchor_if_late(self, first_start: float, now: float) -> None:
        assert self.anchor_beat is not None
        earliest = self.transport.beat_at(now + SAFETY_SECONDS + self.playback.lead_seconds)
        if self.anchor_beat + first_start >= earliest:
            return
        late = self.anchor_beat
        self.anchor_beat = self.transport.next_boundary(self.unit_beats, earliest - first_start)
        log.warning(
            "MIDI response %s: first notes came after beat %.2f; starting at beat %.2f instead",
            self.request_id,
            late,
            self.anchor_beat,
        )

    def _place_free(self, notes: list[Note], now: float) -> None:
        seconds_per_beat = 60.0 / self.transport.tempo
        if self.anchor_time is None:
            lead = max(self.lead_beats * seconds_per_beat, SAFETY_SECONDS)
            self.anchor_time = now + lead + self.playback.lead_seconds
        for note in notes:
            when = self.anchor_time + note.start * seconds_per_beat
            if when - self.playback.lead_seconds < now + SAFETY_SECONDS:
                self.dropped += 1
                self.late.append(note)
                continue
            self.playback.add_at_time(note, when, seconds_per_beat)
            if self.first_note_at is None or when < self.first_note_at:
                self.first_note_at = when
