"""The one musical clock: tempo, time signature, playing state and beat position over time.

Position is a linear function of the monotonic clock between changes: every change re-anchors
at the current beat, so a tempo change never makes the position jump. Several sources may drive
it (MIDI clock, Link, OSC/WebSocket, the internal clock); a lower-priority source is ignored
while a higher one has spoken recently.
"""

from __future__ import annotations

import asyncio
import enum
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MIN_TEMPO = 20.0
MAX_TEMPO = 999.0


class TransportSource(enum.IntEnum):
    """Who may set the transport, lowest priority first."""

    INTERNAL = 0
    NETWORK = 1  # OSC and WebSocket transport messages
    LINK = 2
    MIDI_CLOCK = 3


@dataclass(frozen=True)
class TransportSnapshot:
    """The transport as it was at one instant (what a job sees at request time)."""

    tempo: float
    numerator: int
    denominator: int
    playing: bool
    beat: float  # position in quarter-note beats from the song start
    time: float  # time.monotonic() of the snapshot

    @property
    def beats_per_bar(self) -> float:
        return self.numerator * 4.0 / self.denominator

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.tempo

    def bar_beat(self) -> str:
        return format_bar_beat(self.beat, self.beats_per_bar)

    def as_dict(self) -> dict[str, float | int | bool | str]:
        return {
            "tempo": self.tempo,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "playing": self.playing,
            "beat": self.beat,
            "position": self.bar_beat(),
        }


def format_bar_beat(beat: float, beats_per_bar: float = 4.0) -> str:
    """Beat 0 is "1:1"; beat 5.5 in 4/4 is "2:2.5" (bars and beats count from 1)."""
    bar, within = divmod(max(0.0, beat), beats_per_bar)
    within_text = f"{within + 1:.3f}".rstrip("0").rstrip(".")
    return f"{int(bar) + 1}:{within_text}"


def parse_bar_beat(text: str, beats_per_bar: float = 4.0) -> float:
    """Inverse of `format_bar_beat`: "2:2.5" -> 5.5 in 4/4. Raises ValueError on bad text."""
    bar_text, _, beat_text = text.partition(":")
    bar, beat = int(bar_text), float(beat_text or 1)
    if bar < 1 or not (1 <= beat < math.inf):  # also refuses "nan"
        raise ValueError(f"bar and beat count from 1, got {text!r}")
    return (bar - 1) * beats_per_bar + (beat - 1)


def parse_position(value: object, beats_per_bar: float = 4.0) -> float:
    """A musical position as clients send it: a beat number >= 0, or "bar:beat" text (or a
    number as text). Raises ValueError for anything else, NaN and infinity included."""
    if isinstance(value, str):
        beat = parse_bar_beat(value, beats_per_bar) if ":" in value else float(value)
    elif isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
        beat = float(value) if abs(value) < 1e300 else math.inf  # huge ints: no OverflowError
    else:
        raise ValueError(f'a position is a number or "bar:beat" text, got {value!r}')
    if not (0 <= beat < math.inf):
        raise ValueError(f"a position must be a beat >= 0, got {value!r}")
    return beat


class Transport:
    """Thread-safe transport clock. Times are `time.monotonic()` seconds."""

    # A higher-priority source keeps control while it has spoken within this many seconds.
    SOURCE_HOLD_SECONDS = 2.0

    def __init__(self, tempo: float = 120.0, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.RLock()
        self._tempo = _check_tempo(tempo)
        self._numerator, self._denominator = 4, 4
        self._playing = False
        self._anchor_time = clock()
        self._anchor_beat = 0.0
        self._last_heard: dict[TransportSource, float] = {}
        self._listeners: list[Callable[[TransportSnapshot], None]] = []

    # --- reading -------------------------------------------------------------------------
    def now(self) -> float:
        return self._clock()

    @property
    def tempo(self) -> float:
        return self._tempo

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def beats_per_bar(self) -> float:
        return self._numerator * 4.0 / self._denominator

    @property
    def signature(self) -> tuple[int, int]:
        return self._numerator, self._denominator

    def beat_at(self, when: float | None = None) -> float:
        """Beat position at monotonic time `when` (default now), at the current tempo."""
        with self._lock:
            when = self._clock() if when is None else when
            if not self._playing:
                return self._anchor_beat
            return self._anchor_beat + (when - self._anchor_time) * self._tempo / 60.0

    def time_at(self, beat: float) -> float:
        """Monotonic time at which `beat` is reached if the tempo holds. While stopped, the
        answer assumes playback starts now."""
        with self._lock:
            anchor_time = self._anchor_time if self._playing else self._clock()
            return anchor_time + (beat - self._anchor_beat) * 60.0 / self._tempo

    def next_boundary(self, unit_beats: float, after: float | None = None) -> float:
        """The first multiple of `unit_beats` at or after beat `after` (default: now)."""
        after = self.beat_at() if after is None else after
        return math.ceil(after / unit_beats - 1e-9) * unit_beats

    def next_bar(self, after: float | None = None) -> float:
        return self.next_boundary(self.beats_per_bar, after)

    def snapshot(self) -> TransportSnapshot:
        with self._lock:
            now = self._clock()
            return TransportSnapshot(
                tempo=self._tempo,
                numerator=self._numerator,
                denominator=self._denominator,
                playing=self._playing,
                beat=self.beat_at(now),
                time=now,
            )

    # --- changing ------------------------------------------------------------------------
    def set_tempo(
        self,
        bpm: float,
        source: TransportSource = TransportSource.INTERNAL,
        at: float | None = None,
    ) -> bool:
        """Change tempo at time `at` (default now) without moving the position."""
        bpm = _check_tempo(bpm)
        return self._change(source, at, lambda: setattr(self, "_tempo", bpm))

    def play(
        self, source: TransportSource = TransportSource.INTERNAL, at: float | None = None
    ) -> bool:
        return self._change(source, at, lambda: setattr(self, "_playing", True))

    def stop(
        self, source: TransportSource = TransportSource.INTERNAL, at: float | None = None
    ) -> bool:
        return self._change(source, at, lambda: setattr(self, "_playing", False))

    def set_position(
        self,
        beat: float,
        source: TransportSource = TransportSource.INTERNAL,
        at: float | None = None,
    ) -> bool:
        if not math.isfinite(beat) or beat < 0:
            raise ValueError(f"position must be a beat >= 0, got {beat!r}")
        return self._change(source, at, lambda: setattr(self, "_anchor_beat", float(beat)))

    def set_signature(
        self,
        numerator: int,
        denominator: int,
        source: TransportSource = TransportSource.INTERNAL,
        at: float | None = None,
    ) -> bool:
        if not 1 <= numerator <= 32 or denominator not in (1, 2, 4, 8, 16, 32):
            raise ValueError(
                f"time signature {numerator}/{denominator} is not allowed; numerator 1..32, "
                "denominator a power of two up to 32"
            )

        def apply() -> None:
            self._numerator, self._denominator = numerator, denominator

        return self._change(source, at, apply)

    def subscribe(self, listener: Callable[[TransportSnapshot], None]) -> Callable[[], None]:
        """Call `listener(snapshot)` after every change; returns an unsubscribe function.
        Listeners run on the thread that made the change and must be quick."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def accepts(self, source: TransportSource) -> bool:
        """Whether `source` may set the transport now (and note that it spoke)."""
        with self._lock:
            return self._accepts(source, self._clock())

    def _accepts(self, source: TransportSource, now: float) -> bool:
        for other, heard in self._last_heard.items():
            if other > source and now - heard < self.SOURCE_HOLD_SECONDS:
                return False
        self._last_heard[source] = now
        return True

    def _change(self, source: TransportSource, at: float | None, apply: Callable[[], None]) -> bool:
        with self._lock:
            now = self._clock()
            if not self._accepts(source, now):
                return False
            when = now if at is None else at
            # Re-anchor at the position reached at `when`, so the change is continuous.
            self._anchor_beat = self.beat_at(when)
            self._anchor_time = when
            apply()
            listeners = list(self._listeners)
            snapshot = self.snapshot()
        for listener in listeners:
            listener(snapshot)
        return True


def _check_tempo(bpm: float) -> float:
    if (
        not isinstance(bpm, (int, float))
        or not math.isfinite(bpm)
        or not MIN_TEMPO <= bpm <= MAX_TEMPO
    ):
        raise ValueError(f"tempo must be {MIN_TEMPO:g} to {MAX_TEMPO:g} BPM, got {bpm!r}")
    return float(bpm)


def subscribe_on_loop(
    transport: Transport,
    loop: asyncio.AbstractEventLoop,
    listener: Callable[[TransportSnapshot], None],
) -> Callable[[], None]:
    """Subscribe `listener` to run on `loop`: transport changes arrive on whichever thread
    made them (MIDI clock, Link, the scheduler), but front-ends send from their event loop."""

    def hop(snapshot: TransportSnapshot) -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(listener, snapshot)

    return transport.subscribe(hop)
