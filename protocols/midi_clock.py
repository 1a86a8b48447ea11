"""MIDI clock (24 PPQN), start/stop/continue and song position pointer -> the Transport.

`TempoEstimator` is pure arithmetic on tick arrival times (no I/O, testable with synthetic
jitter): a least-squares line through the recent ticks gives both the tempo and a de-jittered
time for the current tick. The window restarts when several ticks in a row land off the line on
the same side (a tempo change), so a change is followed within a beat while jitter is averaged
over up to two beats. `ClockFollower` turns those estimates into Transport updates.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass

from host.transport import MAX_TEMPO, MIN_TEMPO, Transport, TransportSource

log = logging.getLogger(__name__)

TICKS_PER_BEAT = 24
TICKS_PER_SIXTEENTH = 6  # the song position pointer counts sixteenths
# Beyond 999 BPM (with a beat of slack for bunching) ticks are a storm: refused, not counted.
MAX_TICK_RATE = MAX_TEMPO * TICKS_PER_BEAT / 60.0
# Longer than this without ticks while playing, the sender has gone (not just dropped a few
# ticks): keep free-running, but do not try to count the ticks that went missing.
MAX_GAP_SECONDS = 2.0


@dataclass(frozen=True)
class TickEstimate:
    """What the estimator believes after one tick."""

    index: int  # ticks since the estimator started, counting ticks lost in dropouts
    time: float  # de-jittered arrival time of this tick (on the fitted line)
    seconds_per_tick: float

    @property
    def tempo(self) -> float:
        return 60.0 / (self.seconds_per_tick * TICKS_PER_BEAT)


class TempoEstimator:
    """Tempo and phase from jittered clock ticks.

    - Each tick is the next one (MIDI does not lose bytes on a cable or in JACK); a tick that
      lands further from the line than `outlier_factor` times the typical residual is held back
      instead of bending the line (a sender's hiccup, a stalled thread).
    - `change_run` such ticks in a row on the same side decide what happened, with hindsight:
      if all sit one whole number of tick periods late, ticks were lost (a dropout) and are
      counted; if they are heading back to the line, the sender stalled and is catching up;
      if they sit a steady distance off it, the phase moved and the line moves with it;
      otherwise (drifting further away) the tempo changed: the window restarts from the run.
    - At most `max_window` ticks of history (48 = two beats): more averages jitter better but
      follows tempo ramps later.
    """

    def __init__(
        self,
        max_window: int = 48,
        change_run: int = 6,
        outlier_factor: float = 4.0,
        min_residual: float = 0.0008,
    ) -> None:
        self.max_window = max_window
        self.change_run = change_run
        self.outlier_factor = outlier_factor
        self.min_residual = min_residual
        self._points: deque[tuple[int, float]] = deque(maxlen=max_window)
        self._index = -1
        self._residuals: deque[float] = deque(maxlen=max_window)  # recent |residuals|
        self._run: list[tuple[int, float, float]] = []  # (index, time, residual)
        self._fit: tuple[float, float] | None = None  # (time at index 0, seconds per tick)
        self.changes = 0  # tempo changes detected
        self.dropouts = 0  # gaps recognised as lost ticks
        self.hiccups = 0  # runs off the line that came back to it
        self.shifts = 0  # runs off the line by a steady amount (a phase change)
        self.held_back = 0  # ticks kept out of the fit as outliers
        self.rejected = 0  # ticks refused as a storm
        self._bucket = _TokenBucket(rate=MAX_TICK_RATE, burst=TICKS_PER_BEAT)

    @property
    def index(self) -> int:
        """Index of the last accepted tick (-1 before the first)."""
        return self._index

    @property
    def seconds_per_tick(self) -> float | None:
        return self._fit[1] if self._fit else None

    def reset(self) -> None:
        """Forget the history (the sender went away); indices continue."""
        self._points.clear()
        self._run.clear()
        self._fit = None

    def tick(self, when: float) -> TickEstimate | None:
        """Add a tick that arrived at monotonic time `when`. Returns None until a tempo is
        known, and for ticks refused as a storm (see `rejected`)."""
        if not self._bucket.take(when):
            self.rejected += 1
            return None
        self._index += 1
        index = self._index
        if self._fit is None or len(self._points) < self.change_run + 2:
            self._points.append((index, when))
            if len(self._points) >= 2:
                self._fit = _least_squares(self._points)
            return self._estimate(index)
        intercept, slope = self._fit
        residual = when - (intercept + slope * index)
        limit = max(self.min_residual, self.outlier_factor * self._jitter_scale())
        # The jitter scale is the median residual of recent ticks, outliers included: a
        # jittery sender widens the band instead of looking like tempo changes, while a
        # change, a stall or a storm (a minority of ticks) does not move it.
        self._residuals.append(abs(residual))
        if abs(residual) <= limit:
            self._run.clear()
            self._points.append((index, when))
            self._fit = _least_squares(self._points)
            return self._estimate(index)
        if self._run and (self._run[-1][2] > 0) != (residual > 0):
            self._run.clear()
        self._run.append((index, when, residual))
        self.held_back += 1
        if len(self._run) >= self.change_run:
            self._resolve_run(slope, limit)
        return self._estimate(self._index)

    def _resolve_run(self, slope: float, limit: float) -> None:
        residuals = [residual for _, _, residual in self._run]
        lost = [round(r / slope) for r in residuals]
        # JACK's period quantization alone spreads arrivals over 1.3 ms: a quarter tick of
        # tolerance tells "whole ticks late" from "drifting" without being fooled by it.
        tolerance = max(limit, slope / 4)
        on_the_line = all(
            abs(r - n * slope) <= tolerance for r, n in zip(residuals, lost, strict=True)
        )
        # Losses are rare: at most one more during the run. One more tick late at every tick
        # would be the tempo halving, not the cable dropping ticks.
        rare = lost == sorted(lost) and len(set(lost)) <= 2
        # And the old tempo with whole ticks lost must explain the run about as well as a new
        # tempo would (a tempo change fits a line of its own much better).
        steady = _lost_ticks_fit(self._run, lost, slope) <= 2 * _line_fit(self._run) + (
            len(lost) * (limit / 4) ** 2
        )
        if lost[0] >= 1 and on_the_line and rare and steady:
            # Each tick sits on the old line, a whole number of ticks later: dropouts. Count
            # the lost ticks.
            self.dropouts += 1
            self._points.extend(
                (index + n, when) for (index, when, _), n in zip(self._run, lost, strict=True)
            )
            self._index += lost[-1]
        elif abs(residuals[-1]) < abs(residuals[0]) - limit:
            # Off the line but coming back to it: a sender catching up after a stall, not a
            # new tempo. The old line stands.
            self.hiccups += 1
        elif abs(residuals[-1] - residuals[0]) <= limit:
            # Off the line by a steady amount: the phase moved (the sender's latency changed),
            # the tempo did not. Move the line, keep its slope and its history.
            self.shifts += 1
            shift = sum(residuals) / len(residuals)
            moved = [(index, when + shift) for index, when in self._points]
            self._points = deque(
                moved + [(index, when) for index, when, _ in self._run], maxlen=self.max_window
            )
        else:
            # The tempo changed: the new line starts from the run alone.
            self.changes += 1
            kept = [(index, when) for index, when, _ in self._run]
            self._points = deque(kept, maxlen=self.max_window)
        self._run.clear()
        self._fit = _least_squares(self._points)

    def _jitter_scale(self) -> float:
        if len(self._residuals) < 8:
            return self.min_residual
        ordered = sorted(self._residuals)
        return ordered[len(ordered) // 2]

    def _estimate(self, index: int) -> TickEstimate | None:
        if self._fit is None or not self._fit[1] > 0:
            return None
        intercept, slope = self._fit
        return TickEstimate(index, intercept + slope * index, slope)


class _TokenBucket:
    """Admits at most `rate` events per second on average, with bursts of `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._last: float | None = None

    def take(self, now: float) -> bool:
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


def _lost_ticks_fit(run: list[tuple[int, float, float]], lost: list[int], slope: float) -> float:
    """Squared error of the run on a line of the old slope, each tick `lost[i]` ticks later."""
    offsets = [when - slope * (index + n) for (index, when, _), n in zip(run, lost, strict=True)]
    mean = sum(offsets) / len(offsets)
    return sum((offset - mean) ** 2 for offset in offsets)


def _line_fit(run: list[tuple[int, float, float]]) -> float:
    """Squared error of the run on its own best line (a new tempo)."""
    intercept, slope = _least_squares(deque((index, when) for index, when, _ in run))
    return sum((when - intercept - slope * index) ** 2 for index, when, _ in run)


def _least_squares(points: deque[tuple[int, float]]) -> tuple[float, float]:
    """Fit time = a + b * index; returns (a, b). Indices are centred for numerical safety."""
    n = len(points)
    mean_k = sum(k for k, _ in points) / n
    mean_t = sum(t for _, t in points) / n
    sxx = sum((k - mean_k) ** 2 for k, _ in points)
    sxy = sum((k - mean_k) * (t - mean_t) for k, t in points)
    slope = sxy / sxx if sxx else 0.0
    return mean_t - slope * mean_k, slope


def _clamp(tempo: float) -> float:
    return min(MAX_TEMPO, max(MIN_TEMPO, tempo))


class ClockFollower:
    """Applies MIDI real-time messages to the Transport (as `TransportSource.MIDI_CLOCK`).

    Clock ticks set the tempo whether or not the sender is playing (DAWs send clock while
    stopped); the position follows the ticks only between Start/Continue and Stop. Call the
    methods from the MIDI input thread with the arrival time: the Transport is thread-safe and
    the timing is best taken where the message arrives.
    """

    SOURCE = TransportSource.MIDI_CLOCK

    def __init__(self, transport: Transport, estimator: TempoEstimator | None = None) -> None:
        self.transport = transport
        self.estimator = estimator or TempoEstimator()
        self.playing = False
        self._pending_start = False  # Start/Continue received; the next tick is the downbeat
        self._song_position = 0.0  # beats, from the song position pointer (or Start: 0)
        self._start_index = 0  # estimator index of the tick that was at `_song_position`
        self._last_tick_time: float | None = None
        self.ticks = 0

    # --- messages --------------------------------------------------------------------------
    def clock(self, when: float) -> None:
        if self._last_tick_time is not None and when - self._last_tick_time > MAX_GAP_SECONDS:
            # The sender went quiet for long: start the estimate afresh. While playing, the
            # transport free-ran meanwhile; resume counting from where it has got to.
            self.estimator.reset()
            if self.playing:
                ticks = round(self.transport.beat_at(when) * TICKS_PER_BEAT)
                self._song_position = ticks / TICKS_PER_BEAT
                self._pending_start = True
        rejected = self.estimator.rejected
        estimate = self.estimator.tick(when)
        if self.estimator.rejected != rejected:
            if self.estimator.rejected % 1000 == 1:
                log.warning(
                    "MIDI clock storm: more than %.0f ticks/s (999 BPM); extra ticks ignored",
                    MAX_TICK_RATE,
                )
            return
        self._last_tick_time = when
        self.ticks += 1
        if self._pending_start:
            # The first tick after Start/Continue is the downbeat at the song position.
            self._pending_start = False
            self._start_index = self.estimator.index
            if estimate is not None:
                self.transport.set_tempo(_clamp(estimate.tempo), self.SOURCE, at=when)
            self.transport.set_position(self._song_position, self.SOURCE, at=when)
            self.transport.play(self.SOURCE, at=when)
            self.playing = True
            return
        if estimate is None:
            return
        self.transport.set_tempo(_clamp(estimate.tempo), self.SOURCE, at=estimate.time)
        if self.playing:
            beat = self._song_position + (estimate.index - self._start_index) / TICKS_PER_BEAT
            self.transport.set_position(beat, self.SOURCE, at=estimate.time)

    def start(self) -> None:
        """0xFA: play from the top on the next tick."""
        self._song_position = 0.0
        self._pending_start = True

    def continue_(self) -> None:
        """0xFB: play from the song position on the next tick."""
        self._pending_start = True

    def stop(self, when: float) -> None:
        """0xFC: stop now; the song position is kept for Continue."""
        self._pending_start = False
        if self.playing:
            self._song_position = self.transport.beat_at(when)
            # Round to the last tick: Continue resumes on a tick boundary.
            self._song_position = math.floor(self._song_position * TICKS_PER_BEAT + 1e-6)
            self._song_position /= TICKS_PER_BEAT
        self.playing = False
        self.transport.stop(self.SOURCE, at=when)

    def song_position(self, sixteenths: int) -> None:
        """0xF2: the position to continue from, in sixteenth notes (only honoured while
        stopped, as the MIDI spec asks)."""
        if self.playing:
            return
        self._song_position = sixteenths * TICKS_PER_SIXTEENTH / TICKS_PER_BEAT
        self.transport.set_position(self._song_position, self.SOURCE)
