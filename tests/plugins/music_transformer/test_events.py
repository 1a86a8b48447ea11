"""The performance-event vocabulary: round trips, time shifts, velocity tokens, bad streams."""

from __future__ import annotations

import random

from plugins.music_transformer.events import (
    END,
    NOTE_OFF,
    NOTE_ON,
    PAD,
    STYLE,
    STYLES,
    TIME_SHIFT,
    VELOCITY,
    VOCAB_SIZE,
    TimedNote,
    bin_velocity,
    decode,
    encode,
    quantize,
    style_token,
    velocity_after,
    velocity_bin,
)


def _random_notes(seed: int, count: int = 200) -> list[TimedNote]:
    rng = random.Random(seed)
    return [
        TimedNote(
            rng.randint(21, 108),
            rng.randint(1, 127),
            round(rng.uniform(0, 30), 3),
            round(rng.uniform(0.005, 4), 3),
        )
        for _ in range(count)
    ]


def test_vocabulary_layout_matches_the_paper() -> None:
    assert (NOTE_ON, NOTE_OFF, TIME_SHIFT, VELOCITY) == (0, 128, 256, 356)
    assert PAD == 388 and END == 389 and STYLE == 390
    assert VOCAB_SIZE == 390 + len(STYLES)


def test_quantised_notes_round_trip_exactly() -> None:
    for seed in range(5):
        once = quantize(_random_notes(seed))
        assert decode(encode(once)).notes == once
        assert encode(once) == encode(quantize(once))


def test_round_trip_keeps_times_within_half_a_step_and_velocity_within_a_bin() -> None:
    notes = sorted(
        [TimedNote(60 + i % 12, 20 + 3 * i, 0.37 * i, 0.25) for i in range(30)],
        key=lambda n: (n.start, n.pitch),
    )
    decoded = decode(encode(notes)).notes
    assert len(decoded) == len(notes)
    for original, back in zip(notes, decoded, strict=True):
        assert back.pitch == original.pitch
        assert abs(back.start - original.start) <= 0.005 + 1e-9
        assert abs(back.duration - original.duration) <= 0.01 + 1e-9
        assert velocity_bin(back.velocity) == velocity_bin(original.velocity)


def test_long_silences_use_several_time_shifts() -> None:
    tokens = encode([TimedNote(60, 64, 2.5, 0.5)])
    # 2.5 s = 1 s + 1 s + 0.5 s before the note, then 0.5 s before its end
    assert tokens[:3] == [TIME_SHIFT + 99, TIME_SHIFT + 99, TIME_SHIFT + 49]
    assert tokens[3:] == [VELOCITY + velocity_bin(64), NOTE_ON + 60, TIME_SHIFT + 49, NOTE_OFF + 60]


def test_velocity_token_only_when_the_bin_changes() -> None:
    chord = [TimedNote(p, 80, 0.0, 1.0) for p in (60, 64, 67)]
    tokens = encode(chord + [TimedNote(72, 20, 1.0, 1.0)])
    assert sum(VELOCITY <= t < PAD for t in tokens) == 2
    assert bin_velocity(velocity_bin(80)) // 4 == 80 // 4


def test_repeated_pitch_and_overlaps_stay_separate_notes() -> None:
    notes = [TimedNote(60, 66, 0.0, 0.5), TimedNote(60, 66, 0.5, 0.5)]
    assert decode(encode(notes)).notes == notes
    overlapping = [TimedNote(62, 66, 0.0, 1.0), TimedNote(62, 66, 0.5, 1.0)]
    assert decode(encode(overlapping)).notes == [
        TimedNote(62, 66, 0.0, 0.5),
        TimedNote(62, 66, 0.5, 1.0),
    ]


def test_decoder_counts_impossible_and_unclosed_events() -> None:
    decoded = decode([style_token("bach"), NOTE_OFF + 60, NOTE_ON + 61, TIME_SHIFT + 9, PAD])
    assert decoded.stats.impossible == 2  # off of a silent pitch, PAD mid-stream
    assert decoded.stats.unclosed == 1
    assert not decoded.stats.well_formed
    assert decoded.notes == [TimedNote(61, 64, 0.0, 0.1)]
    clean = decode(encode(_random_notes(9)))
    assert clean.stats.well_formed and clean.stats.note_ons == 200


def test_velocity_after_reads_the_last_velocity_token() -> None:
    tokens = encode([TimedNote(60, 100, 0.0, 0.5), TimedNote(62, 40, 0.5, 0.5)])
    assert velocity_bin(velocity_after(tokens)) == velocity_bin(40)
    assert velocity_after([NOTE_ON + 60]) == 64
