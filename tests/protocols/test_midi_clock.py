"""The MIDI clock tempo estimator and the clock follower, on synthetic tick times (no I/O)."""

from __future__ import annotations

import random

import pytest

from host.transport import Transport, TransportSource
from protocols.midi_clock import ClockFollower, TempoEstimator, TickEstimate


def ticks(tempo: float, count: int, start: float = 100.0, first_index: int = 0) -> list[float]:
    period = 60.0 / (tempo * 24)
    return [start + (first_index + i) * period for i in range(count)]


def feed(estimator: TempoEstimator, times: list[float], jitter: float = 0.0, seed: int = 1):
    rng = random.Random(seed)
    estimate: TickEstimate | None = None
    for when in times:
        estimate = estimator.tick(when + rng.gauss(0.0, jitter)) or estimate
    return estimate


def test_steady_clock_with_jitter_gives_the_tempo_and_a_dejittered_grid() -> None:
    estimator = TempoEstimator()
    truth = ticks(120, 96)
    rng = random.Random(3)
    errors_raw, errors_fit = [], []
    for index, when in enumerate(truth):
        noisy = when + rng.gauss(0.0, 0.001)
        estimate = estimator.tick(noisy)
        if index >= 48 and estimate is not None:
            assert estimate.index == index
            errors_raw.append(abs(noisy - when))
            errors_fit.append(abs(estimate.time - when))
    assert estimate is not None and estimate.tempo == pytest.approx(120, abs=0.3)
    # The fitted line is closer to the true grid than the ticks themselves.
    assert sum(errors_fit) < 0.5 * sum(errors_raw)
    assert estimator.changes == 0 and estimator.dropouts == 0


def test_a_step_from_120_to_90_is_followed_within_a_beat() -> None:
    estimator = TempoEstimator()
    before = ticks(120, 96)
    period_90 = 60.0 / (90 * 24)
    after = [before[-1] + (i + 1) * period_90 for i in range(24)]
    feed(estimator, before, jitter=0.001)
    estimate = feed(estimator, after, jitter=0.001, seed=2)
    assert estimator.changes >= 1
    assert estimate is not None and estimate.tempo == pytest.approx(90, abs=1.0)
    assert estimate.index == 96 + 24 - 1


def test_lost_ticks_are_counted_so_the_position_keeps_up() -> None:
    estimator = TempoEstimator()
    truth = ticks(120, 120)
    received = truth[:60] + truth[70:]  # ten ticks lost on the way
    estimate = feed(estimator, received, jitter=0.0005)
    assert estimator.dropouts == 1 and estimator.changes == 0
    assert estimate is not None and estimate.index == 119
    assert estimate.tempo == pytest.approx(120, abs=0.3)


def test_one_late_tick_neither_moves_the_count_nor_the_tempo() -> None:
    estimator = TempoEstimator()
    truth = ticks(120, 96)
    hiccup = list(truth)
    hiccup[50] += 0.030  # a stalled sender: this tick is 30 ms late ...
    hiccup[51] = hiccup[50] + 0.0001  # ... and the next one comes right after it
    estimate = feed(estimator, hiccup, jitter=0.0003)
    assert estimate is not None and estimate.index == 95
    assert estimator.changes == 0 and estimator.dropouts == 0
    assert estimate.time == pytest.approx(truth[95], abs=0.001)


def test_a_clock_storm_is_refused_and_the_estimate_recovers() -> None:
    estimator = TempoEstimator()
    feed(estimator, ticks(120, 48))
    storm_start = ticks(120, 49)[-1]
    for i in range(5000):
        estimator.tick(storm_start + i * 0.00005)
    assert estimator.rejected > 4800  # at most 400 ticks/s (999 BPM) get through
    estimate = feed(estimator, ticks(120, 96, start=storm_start + 0.5))
    assert estimate is not None and estimate.tempo == pytest.approx(120, abs=0.5)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def run_clock(follower: ClockFollower, clock: FakeClock, times: list[float]) -> None:
    for when in times:
        clock.now = when
        follower.clock(when)


def test_start_plays_from_the_next_tick_and_follows_the_ticks() -> None:
    clock = FakeClock()
    transport = Transport(clock=clock)
    follower = ClockFollower(transport)
    times = ticks(100, 200, start=100.0)
    run_clock(follower, clock, times[:30])  # clock while stopped: tempo only
    assert not transport.playing and transport.tempo == pytest.approx(100)
    follower.start()
    run_clock(follower, clock, times[30:])
    assert transport.playing
    # The tick after Start was the downbeat; 169 ticks later we are at beat 169/24.
    assert transport.beat_at(times[-1]) == pytest.approx(169 / 24, abs=1e-6)


def test_stop_song_position_and_continue() -> None:
    clock = FakeClock()
    transport = Transport(clock=clock)
    follower = ClockFollower(transport)
    times = ticks(120, 200, start=100.0)
    follower.start()
    run_clock(follower, clock, times[:49])  # beats 0..2
    follower.stop(times[48] + 0.001)
    assert not transport.playing
    follower.song_position(16)  # sixteenth 16 = beat 4
    assert transport.beat_at() == pytest.approx(4.0)
    run_clock(follower, clock, times[49:60])  # clock while stopped: position holds
    assert transport.beat_at() == pytest.approx(4.0)
    follower.continue_()
    run_clock(follower, clock, times[60:84])
    assert transport.playing
    assert transport.beat_at(times[83]) == pytest.approx(4.0 + 23 / 24, abs=1e-6)


def test_song_position_is_ignored_while_playing() -> None:
    clock = FakeClock()
    transport = Transport(clock=clock)
    follower = ClockFollower(transport)
    follower.start()
    run_clock(follower, clock, ticks(120, 25))
    follower.song_position(64)
    assert transport.beat_at(clock.now) == pytest.approx(1.0, abs=1e-6)


def test_free_running_through_a_long_silence_then_resuming() -> None:
    clock = FakeClock()
    transport = Transport(clock=clock)
    follower = ClockFollower(transport)
    times = ticks(120, 400, start=100.0)
    follower.start()
    run_clock(follower, clock, times[:48])
    # Three seconds without clock (six beats at 120): the transport runs on by itself.
    assert transport.beat_at(times[48 + 144]) == pytest.approx(192 / 24, abs=1e-3)
    run_clock(follower, clock, times[48 + 144 :])
    assert transport.playing
    assert transport.beat_at(times[-1]) == pytest.approx(399 / 24, abs=1e-3)


def test_midi_clock_outranks_network_transport_messages() -> None:
    clock = FakeClock()
    transport = Transport(clock=clock)
    follower = ClockFollower(transport)
    run_clock(follower, clock, ticks(100, 10))
    assert not transport.set_tempo(140, TransportSource.NETWORK)
    assert transport.tempo == pytest.approx(100)
