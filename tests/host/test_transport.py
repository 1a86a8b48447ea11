"""Transport arithmetic across tempo changes, source priority, and the beat scheduler."""

from __future__ import annotations

import threading
import time

import pytest

from host.scheduler import Scheduler
from host.transport import Transport, TransportSource, format_bar_beat, parse_bar_beat


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_position_follows_tempo_changes_without_jumps() -> None:
    clock = FakeClock()
    transport = Transport(120, clock=clock)
    transport.play()
    clock.now += 2.0  # 4 beats at 120
    assert transport.beat_at() == pytest.approx(4.0)
    transport.set_tempo(60)
    assert transport.beat_at() == pytest.approx(4.0)  # no jump at the change
    clock.now += 2.0  # 2 beats at 60
    assert transport.beat_at() == pytest.approx(6.0)
    assert transport.time_at(8.0) == pytest.approx(clock.now + 2.0)
    assert transport.next_bar() == pytest.approx(8.0)


def test_tempo_change_scheduled_in_the_past_is_exact() -> None:
    clock = FakeClock()
    transport = Transport(120, clock=clock)
    transport.play(at=100.0)
    clock.now = 103.0
    transport.set_tempo(60, at=102.0)  # e.g. a timetagged bundle applied late
    assert transport.beat_at() == pytest.approx(4.0 + 1.0)


def test_stopped_transport_holds_position() -> None:
    clock = FakeClock()
    transport = Transport(120, clock=clock)
    transport.play()
    clock.now += 1.0
    transport.stop()
    clock.now += 5.0
    assert transport.beat_at() == pytest.approx(2.0)
    transport.set_position(16)
    transport.play()
    clock.now += 0.5
    assert transport.beat_at() == pytest.approx(17.0)


def test_signature_changes_bars() -> None:
    transport = Transport(120)
    transport.set_signature(6, 8)
    assert transport.beats_per_bar == 3.0
    assert transport.next_bar(after=3.1) == pytest.approx(6.0)
    assert format_bar_beat(4.5, 3.0) == "2:2.5"
    assert parse_bar_beat("2:2.5", 3.0) == 4.5
    with pytest.raises(ValueError, match="7/5"):
        transport.set_signature(7, 5)


def test_higher_priority_source_wins_while_active() -> None:
    clock = FakeClock()
    transport = Transport(120, clock=clock)
    assert transport.set_tempo(100, TransportSource.MIDI_CLOCK)
    assert not transport.set_tempo(140, TransportSource.NETWORK)
    assert transport.tempo == 100
    clock.now += Transport.SOURCE_HOLD_SECONDS + 0.1  # MIDI clock went quiet
    assert transport.set_tempo(140, TransportSource.NETWORK)
    assert transport.tempo == 140


@pytest.mark.parametrize("bad", [0, -5, float("nan"), float("inf"), 5000])
def test_bad_tempo_is_refused_by_name(bad: float) -> None:
    with pytest.raises(ValueError, match="tempo"):
        Transport(120).set_tempo(bad)


def test_listeners_see_changes() -> None:
    transport = Transport(120)
    seen = []
    unsubscribe = transport.subscribe(lambda snap: seen.append(snap.tempo))
    transport.set_tempo(90)
    unsubscribe()
    transport.set_tempo(100)
    assert seen == [90.0]


def test_scheduler_fires_in_order_and_follows_tempo() -> None:
    transport = Transport(600)  # 10 beats per second keeps the test short
    scheduler = Scheduler(transport)
    fired: list[tuple[str, float]] = []
    done = threading.Event()
    try:
        transport.play()
        start = time.monotonic()
        scheduler.at_beat(2.0, lambda: fired.append(("beat2", time.monotonic() - start)))
        scheduler.at_beat(1.0, lambda: fired.append(("beat1", time.monotonic() - start)))
        cancelled = scheduler.at_beat(1.5, lambda: fired.append(("never", 0.0)))
        scheduler.cancel(cancelled)
        scheduler.at_beat(2.0001, done.set)
        transport.set_tempo(300)  # beats now take 0.2 s: beat 2 moves from 0.2 s to ~0.4 s
        assert done.wait(3)
    finally:
        scheduler.stop()
    assert [name for name, _ in fired] == ["beat1", "beat2"]
    assert fired[1][1] > 0.3  # re-timed to the new tempo, not fired at the old time


def test_scheduler_holds_beat_events_while_stopped() -> None:
    transport = Transport(600)
    scheduler = Scheduler(transport)
    fired = threading.Event()
    try:
        scheduler.at_beat(0.5, fired.set)
        assert not fired.wait(0.2)
        transport.play()
        assert fired.wait(2)
    finally:
        scheduler.stop()


def test_signature_change_at_a_time_keeps_the_position() -> None:
    clock = FakeClock()
    transport = Transport(120, clock=clock)
    transport.play(at=100.0)
    clock.now = 102.0
    transport.set_signature(3, 4, at=101.0)  # applied late, anchored where it was due
    assert transport.beat_at() == pytest.approx(4.0)
    assert transport.beats_per_bar == 3.0


def test_beat_offsets_stay_in_seconds_across_tempo_changes() -> None:
    clock = FakeClock()
    # An hour ahead of the real clock the scheduler thread runs on: the item must stay queued
    # (an overdue one would fire and leave the queue before the tempo change retimes it).
    clock.now = time.monotonic() + 3600
    transport = Transport(120, clock=clock)
    scheduler = Scheduler(transport)
    try:
        transport.play()
        item = scheduler.at_beat(8.0, lambda: None, offset_seconds=-0.005)
        assert item.due == pytest.approx(clock.now + 4.0 - 0.005)
        transport.set_tempo(60)
        assert item.due == pytest.approx(clock.now + 8.0 - 0.005)  # 5 ms early, not 10
    finally:
        scheduler.stop()
