"""Phrase dynamics (dynamics.py), the synthetic performer the velocity evaluation plays with
(performer.py), its scoring (dynamics_eval.py) and the `dynamics` option through the core."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from host.requests import Done, OutputEvent
from plugins.music_transformer.continuations import make_case
from plugins.music_transformer.dynamics import BEAT, DOWNBEAT, HALF, OTHER, fit, metric_class
from plugins.music_transformer.dynamics_eval import given_notes, performed, profile
from plugins.music_transformer.events import TimedNote
from plugins.music_transformer.performer import Performance, draw, perform
from plugins.music_transformer.plugin import MusicTransformerModel
from tests.fakes import run_requests


def test_metric_classes_in_four_four_and_three_four() -> None:
    assert [metric_class(b, 4.0) for b in (0, 1, 2, 3, 4, 0.5, 1.25, 3.98)] == [
        DOWNBEAT,
        BEAT,
        BEAT,
        BEAT,
        DOWNBEAT,
        HALF,
        OTHER,
        DOWNBEAT,
    ]
    assert metric_class(3.0, 3.0) == DOWNBEAT and metric_class(2.0, 3.0) == BEAT


def _accented_crescendo(bars: int = 2) -> tuple[list[int], list[int], list[float]]:
    starts = [i * 0.5 for i in range(8 * bars)]
    pitches = [60 + (i % 8) for i in range(8 * bars)]
    velocities = [round(50 + 1.5 * s + (16 if s % 4 == 0 else 0)) for s in starts]
    return pitches, velocities, starts


def test_fit_reads_accents_and_a_crescendo_and_carries_them_on() -> None:
    pitches, velocities, starts = _accented_crescendo()
    dynamics = fit(pitches, velocities, starts, 4.0, end_beat=8.0)
    assert dynamics.accents[DOWNBEAT] > dynamics.accents[HALF] + 5
    assert dynamics.slope > 0.5
    nxt = [dynamics.velocity(64, 8.0 + i * 0.5) for i in range(8)]
    assert nxt[0] > max(nxt[1:4])  # the next downbeat is accented
    assert nxt[0] > velocities[-1]  # not a copy of the last velocity
    # the crescendo goes on, but for one phrase only: later bars stop growing
    late = [dynamics.velocity(64, 40.0 + i * 0.5) for i in range(8)]
    assert late == [dynamics.velocity(64, 48.0 + i * 0.5) for i in range(8)]
    assert all(dynamics.low <= v <= dynamics.high for v in nxt + late)


def test_flat_primer_gives_its_level_and_short_primers_work() -> None:
    dynamics = fit([60, 62, 64, 65], [70] * 4, [0.0, 1.0, 2.0, 3.0], 4.0)
    assert {dynamics.velocity(p, 4.0 + b) for p in (48, 60, 84) for b in (0, 0.5, 1.3)} == {70}
    one = fit([60], [33], [0.0], 3.0)
    assert one.velocity(72, 5.0) == 33
    with pytest.raises(ValueError, match="no primer notes"):
        fit([], [], [], 4.0)


def test_louder_high_notes_are_read_as_such() -> None:
    pitches = [60, 67, 72, 79, 72, 67, 60, 67, 72, 79, 72, 67]
    starts = [i * 1.0 + 0.25 for i in range(12)]  # all off the beat: no accent to confuse
    velocities = [40 + (p - 60) for p in pitches]
    dynamics = fit(pitches, velocities, starts, 4.0)
    assert dynamics.velocity(79, 12.25) - dynamics.velocity(60, 13.25) >= 10


def test_performer_is_seeded_and_in_range() -> None:
    pitches, starts = [60, 64, 67, 72] * 4, [i * 0.5 for i in range(16)]
    a = perform(pitches, starts, 4.0, draw(random.Random(3), 8.0), random.Random(1))
    b = perform(pitches, starts, 4.0, draw(random.Random(3), 8.0), random.Random(1))
    assert a == b and all(1 <= v <= 127 for v in a)
    loud = Performance(120, 20, 1.5, 24, 1, 2.0, 8.0, 0.0)
    assert max(perform(pitches, starts, 4.0, loud, random.Random(0))) == 127


def _case() -> object:
    notes = [TimedNote(60 + (i % 5), 80, i * 0.25, 0.25) for i in range(64)]  # 120 BPM
    case = make_case("x/y", "bach", 120.0, notes, 8.0, 8.0)
    assert case is not None
    return case


def test_phrase_beats_copying_the_last_velocity_on_performed_accents() -> None:
    accents = Performance(60, 20, 0.0, 0.0, 1, 0.0, 16.0, 0.0)  # strong downbeats only
    case, _ = performed(_case(), random.Random(0), accents)  # type: ignore[arg-type]
    scores = given_notes(case)
    assert scores["phrase"]["mae"] < scores["copy_last"]["mae"]
    assert scores["phrase"]["correlation"] > 0.9 and scores["copy_last"]["correlation"] == 0.0
    shape = profile(case.real, [n.start / case.seconds_per_beat + 8 for n in case.real])
    assert shape["accents"][DOWNBEAT] > 10  # type: ignore[index]


# Two bars of 4/4 up the C major scale a beat per note (as the tiny model was trained to
# play), soft (40) but for loud downbeats (100), ending softly.
PRIMER = [
    value
    for i, pitch in enumerate((60, 62, 64, 65, 67, 69, 71, 72))
    for value in (pitch, 100 if i % 4 == 0 else 40, float(i), 1.0)
]


def test_dynamics_option_through_the_core(tmp_path: Path, tiny_checkpoint: Path) -> None:
    """Loud downbeats in a soft primer that ends softly: `phrase` accents the continuation's
    downbeats, `model` plays everything at the primer's last velocity."""

    def velocities(dynamics: str) -> list[tuple[float, int]]:
        model = MusicTransformerModel()
        model.checkpoint = tiny_checkpoint
        request = {
            "inputs": {"primer": PRIMER},
            "options": {"bars": 2, "dynamics": dynamics, "temperature": 0.5},
            "seed": 2,
        }
        events = run_requests(tmp_path / dynamics, model, "continue", request)[0]
        assert isinstance(events[-1], Done), events[-1]
        return [
            (n.start, n.velocity)
            for e in events
            if isinstance(e, OutputEvent) and hasattr(e.output, "notes")
            for n in e.output.notes  # type: ignore[attr-defined]
        ]

    model_notes = velocities("model")
    assert model_notes and {v for _, v in model_notes} == {42}  # the last velocity, binned
    phrase_notes = velocities("phrase")
    strong = [v for s, v in phrase_notes if metric_class(s, 4.0) == DOWNBEAT]
    weak = [v for s, v in phrase_notes if metric_class(s, 4.0) != DOWNBEAT]
    assert strong and weak and min(strong) > max(weak), phrase_notes


def test_with_phrase_dynamics_the_network_hears_the_primer_at_one_velocity(
    tmp_path: Path, tiny_checkpoint: Path
) -> None:
    """dynamics=phrase feeds the network the primer as its corpus plays (every note at 80): a
    loud-soft primer and the same notes at 80 get the same pitches and times (same seed);
    with dynamics=model the velocities reach the network, and the notes may differ."""

    def notes(primer: list[float], dynamics: str) -> list[tuple[int, float, float]]:
        model = MusicTransformerModel()
        model.checkpoint = tiny_checkpoint
        request = {
            "inputs": {"primer": primer},
            "options": {"bars": 2, "dynamics": dynamics, "temperature": 1.5},
            "seed": 4,
        }
        events = run_requests(tmp_path / f"{dynamics}{primer[1]}", model, "continue", request)[0]
        assert isinstance(events[-1], Done), events[-1]
        return [
            (n.pitch, n.start, n.duration)
            for e in events
            if isinstance(e, OutputEvent) and hasattr(e.output, "notes")
            for n in e.output.notes  # type: ignore[attr-defined]
        ]

    flat = [v if i % 4 != 1 else 80 for i, v in enumerate(PRIMER)]
    assert notes(PRIMER, "phrase") == notes(flat, "phrase")
    assert notes(flat, "model") == notes(flat, "phrase")  # at 80 both hear the same events
