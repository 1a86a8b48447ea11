"""Data: a music21 chorale becomes a piece in beats, splits are fixed by id, training windows
are augmented crops that start with a style token, evaluation windows are fixed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from plugins.music_transformer.continuations import histogram_overlap, pitch_class_histogram
from plugins.music_transformer.corpus import Piece, parse_file
from plugins.music_transformer.dataset import (
    TrainingSampler,
    evaluation_windows,
    piece_notes,
    piece_tokens,
)
from plugins.music_transformer.evaluate import fingerprint
from plugins.music_transformer.events import END, PAD, STYLE, decode, style_token


def _piece(piece_id: str = "bach/test", notes: int = 64) -> Piece:
    rows = [(60 + (i * 5) % 12, 80, i * 0.5, 0.5) for i in range(notes)]
    return Piece(piece_id, "bach", 120.0, np.array(rows, dtype=np.float32))


def test_a_bach_chorale_parses_into_notes_in_beats() -> None:
    from music21 import corpus

    path = corpus.getWork("bwv66.6")
    pieces = parse_file(("bach", path))
    assert len(pieces) == 1
    piece = pieces[0]
    assert piece.piece_id == "bach/bwv66.6" and piece.style == "bach"
    assert len(piece.notes) > 100  # four voices
    assert piece.notes[:, 0].min() >= 36 and piece.notes[:, 0].max() <= 84
    assert np.all(np.diff(piece.notes[:, 2]) >= 0)  # sorted by onset
    assert piece.split == parse_file(("bach", path))[0].split  # the split is fixed by id


def test_splits_are_fixed_and_roughly_90_5_5() -> None:
    splits = [_piece(f"x/{i}").split for i in range(2000)]
    assert 0.86 < splits.count("train") / 2000 < 0.94
    assert splits.count("valid") > 50 and splits.count("test") > 50


def test_piece_tokens_decode_to_the_piece_at_its_tempo() -> None:
    piece = _piece()
    tokens = piece_tokens(piece)
    assert tokens[-1] == END
    decoded = decode(tokens[:-1]).notes
    assert [n.pitch for n in decoded] == [n.pitch for n in piece_notes(piece)]
    assert decoded[1].start == pytest.approx(0.25)  # half a beat at 120 BPM


def test_transposition_stays_in_range_and_stretch_scales_time() -> None:
    high = Piece("x/high", "bach", 120.0, np.array([[125, 80, 0, 1]], dtype=np.float32))
    assert piece_notes(high, transpose=6)[0].pitch == 127
    assert piece_notes(_piece(), stretch=2.0)[1].start == pytest.approx(0.125)


def test_training_windows_start_with_a_style_token_and_are_padded() -> None:
    sampler = TrainingSampler([_piece(notes=8), _piece("b/long", 400)], length=64, seed=0)
    batch = sampler.batch(16)
    assert batch.shape == (16, 64)
    assert bool((batch[:, 0] >= STYLE).all())
    assert set(batch[:, 0].tolist()) <= {style_token("bach"), style_token("any")}
    short = TrainingSampler([_piece(notes=8)], length=64, seed=0).batch(2)
    assert bool((short[:, -1] == PAD).all())  # a piece shorter than the window is padded
    again = TrainingSampler([_piece(notes=8), _piece("b/long", 400)], length=64, seed=0)
    assert torch.equal(again.batch(16), batch)


def test_evaluation_windows_cover_the_piece_once() -> None:
    piece = _piece(notes=200)
    windows = evaluation_windows([piece], length=64)
    body = [t for row in windows.tolist() for t in row[1:] if t != PAD]
    assert body == piece_tokens(piece)
    assert torch.equal(windows, evaluation_windows([piece], length=64))


def test_fingerprint_ignores_transposition_and_histograms_compare() -> None:
    piece = _piece()
    shifted = Piece("y", "bach", 120.0, piece.notes + np.array([3, 0, 0, 0], dtype=np.float32))
    assert fingerprint(piece) == fingerprint(shifted)
    a = pitch_class_histogram(piece_notes(piece))
    assert histogram_overlap(a, a) == pytest.approx(1.0)
    assert histogram_overlap(a, pitch_class_histogram(piece_notes(shifted))) < 1.0
