"""Scoring continuations (continuations.py), the report's samplers (continuation_report.py)
and the outside-the-corpus sources (outside.py)."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.music_transformer.continuation_report import (
    network_sampler,
    ngram_sampler,
    outside_cases,
    plugin_defaults,
    rerank_sampler,
)
from plugins.music_transformer.continuations import (
    Generated,
    consensus_pick,
    make_case,
    piece_cases,
    prefix_of,
    primer_sample_overlap,
    run_batch,
    run_stream,
    score,
    summarise,
)
from plugins.music_transformer.corpus import Piece
from plugins.music_transformer.dataset import piece_notes
from plugins.music_transformer.events import (
    NOTE_OFF,
    NOTE_ON,
    TIME_SHIFT,
    VOCAB_SIZE,
    TimedNote,
    encode,
)
from plugins.music_transformer.generate import Continuation, SamplingSettings
from plugins.music_transformer.model import MusicTransformer
from plugins.music_transformer.ngram import NGramModel
from plugins.music_transformer.plugin import MusicTransformerOptions


def _scale_piece(piece_id: str = "bach/x", beats: int = 32, bpm: float = 120.0) -> Piece:
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    rows = [(scale[i % 8], 80, float(i), 1.0) for i in range(beats)]
    return Piece(piece_id, "bach", bpm, np.array(rows, dtype=np.float32))


def test_a_case_is_the_primer_and_the_real_next_beats() -> None:
    (case,) = piece_cases([_scale_piece()], 8.0, 8.0)
    assert [n.pitch for n in case.primer] == [60, 62, 64, 65, 67, 69, 71, 72]
    assert [n.pitch for n in case.real] == [60, 62, 64, 65, 67, 69, 71, 72]
    assert case.real[0].start == 0.0 and case.target == pytest.approx(4.0)  # 8 beats at 120
    notes = piece_notes(_scale_piece())
    later = make_case("p", "bach", 120.0, notes, 4.0, 4.0, offset_beats=2.0)
    assert later is not None and later.primer[0].pitch == 64 and later.primer[0].start == 0.0
    assert make_case("p", "bach", 120.0, case.primer[:3], 8.0, 8.0) is None  # too few notes


def test_scores_of_a_perfect_and_a_wrong_continuation() -> None:
    (case,) = piece_cases([_scale_piece()], 8.0, 8.0)
    perfect = score(case, Generated(list(case.real), note_ons=8))
    assert perfect["pitch_class_overlap"] == 1.0 and perfect["well_formed"] == 1.0
    assert perfect["density_ratio"] == pytest.approx(1.0)
    wrong = [TimedNote(61, 80, i * 0.5, 0.5) for i in range(8)]  # C# only: out of key
    bad = score(case, Generated(wrong, note_ons=8, stuck=1))
    assert bad["pitch_class_overlap"] == 0.0 and bad["well_formed"] == 0.0
    summary = summarise([perfect, bad])
    assert summary["pitch_class_overlap"] == 0.5 and summary["note_on_closed_fraction"] == 0.9375
    # drawing 8 notes from the primer's 7 pitch classes rarely matches exactly
    assert 0.4 < primer_sample_overlap(case) < perfect["primer_baseline_overlap"] == 1.0


def test_run_stream_decodes_until_the_span_is_covered_and_counts_stuck_notes() -> None:
    (case,) = piece_cases([_scale_piece(bpm=60.0)], 8.0, 8.0)  # an 8 s continuation
    held = [NOTE_ON + 60] + [TIME_SHIFT + 99] * 9  # one note held for 8 s
    generated = run_stream(iter(held), case, prefix_of(case))
    assert generated.stuck == 1 and not generated.well_formed
    closed = [NOTE_ON + 62, TIME_SHIFT + 49, NOTE_OFF + 62] * 20
    generated = run_stream(iter(closed), case, prefix_of(case))
    assert generated.well_formed and generated.notes[0].pitch == 62
    assert generated.events == 47  # the 16th half-second shift reaches 8 s: stop there


def test_samplers_run_and_the_defaults_come_from_the_options(
    tiny_model: MusicTransformer,
) -> None:
    defaults = plugin_defaults()
    options = MusicTransformerOptions()
    assert (defaults.temperature, defaults.top_p, defaults.key_strength) == (
        options.temperature,
        options.top_p,
        options.key_strength,
    )
    (case,) = piece_cases([_scale_piece()], 8.0, 8.0)
    settings = SamplingSettings(well_formed=True)
    made = network_sampler(tiny_model, settings, None)(case, 0)
    assert made.impossible == 0
    ngram = NGramModel(3, VOCAB_SIZE).fit([prefix_of(case) + encode(case.real)] * 3)
    played = ngram_sampler(ngram, 3, settings)(case, 0)
    assert played.impossible == 0 and played.notes  # it learnt to play the scale
    assert {n.pitch for n in played.notes} <= {60, 62, 64, 65, 67, 69, 71, 72}


def test_outside_cases_take_primers_every_sixteen_beats() -> None:
    cases = outside_cases([_scale_piece("songs/y", beats=64)], 3)
    assert len(cases) == 3 and [c.primer[0].start for c in cases] == [0.0, 0.0, 0.0]
    assert [c.primer[0].pitch for c in cases] == [60, 60, 60]  # 16 beats = two scales


def test_outside_sources_are_not_read_by_the_corpus_builder() -> None:
    from plugins.music_transformer.outside import SOURCES, used_by_corpus

    assert not any(used_by_corpus(c, n) for files in SOURCES.values() for c, n in files)
    assert used_by_corpus("essenFolksong", "altdeu10.abc")


def test_consensus_pick_keeps_the_candidate_in_the_shared_key() -> None:
    c_major = [60, 64, 67, 72, 62, 65]
    candidates = [[61, 66, 70, 63, 68, 61], [60, 64, 67, 60, 65, 69], [60, 64, 67, 71, 62, 72]]
    assert consensus_pick(candidates, c_major) in (1, 2)
    assert consensus_pick(candidates, c_major, usable=[True, False, False]) == 0
    assert consensus_pick(candidates, c_major, usable=[False] * 3) in (1, 2)  # none usable


def test_run_batch_decodes_every_stream_and_the_rerank_sampler_keeps_one(
    tiny_model: MusicTransformer,
) -> None:
    model = tiny_model
    (case,) = piece_cases([_scale_piece()], 8.0, 8.0)
    prefix = prefix_of(case)
    settings = SamplingSettings(well_formed=True, max_hold_seconds=2.0)
    made = run_batch(Continuation(model, prefix, 3, settings, 4).stream(), case, prefix, 3)
    assert len(made) == 3 and all(g.impossible == 0 for g in made)
    assert all(n.start < case.target for g in made for n in g.notes)
    kept = rerank_sampler(model, settings, 3, None)(case, 4)
    assert kept.notes in [g.notes for g in made]
