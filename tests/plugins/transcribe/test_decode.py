"""Labels, decoding and chunked inference: what the network is taught decodes back to the
notes it came from, and long files give the same posteriors as one pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from plugins.transcribe import transcriber as transcriber_module
from plugins.transcribe.decode import SecondsNote, decode_notes
from plugins.transcribe.features import FRAMES_PER_SECOND, SAMPLE_RATE, Frontend, note_labels
from plugins.transcribe.transcriber import Transcriber, keep_monophonic

NOTES = np.array(
    [
        [60, 100, 0.10, 0.60],
        [64, 50, 0.10, 0.60],  # a chord
        [60, 80, 0.60, 0.90],  # the same key struck again at once
        [21, 127, 1.00, 1.50],  # the lowest key
        [108, 30, 1.20, 1.30],  # the highest
        [20, 90, 0.5, 0.7],  # below the piano: not a label
    ],
    np.float32,
)


def test_labels_decode_back_to_their_notes() -> None:
    frames = int(2 * FRAMES_PER_SECOND)
    onset, frame, velocity = note_labels(NOTES, frames)
    decoded = decode_notes(onset, frame, velocity, 0.5, 0.5)
    expected = sorted(
        ((int(p), int(v), a, b) for p, v, a, b in NOTES if 21 <= p <= 108),
        key=lambda n: (n[2], n[0]),
    )
    assert len(decoded) == len(expected)
    for note, (pitch, vel, start, stop) in zip(decoded, expected, strict=True):
        assert note.pitch == pitch
        assert abs(note.velocity - vel) <= 1
        assert note.onset == pytest.approx(start, abs=0.5 / FRAMES_PER_SECOND + 1e-6)
        assert note.offset == pytest.approx(stop, abs=0.5 / FRAMES_PER_SECOND + 1e-6)


def test_labels_of_a_window_are_shifted_and_cut() -> None:
    onset, frame, _ = note_labels(NOTES, 20, offset_seconds=0.5)
    assert onset[:, 60 - 21].argmax() == round(0.1 * FRAMES_PER_SECOND)  # the re-strike at 0.6 s
    assert frame[0, 60 - 21] == 1.0  # the first C still sounds at the window's start
    assert onset[:, 21 - 21].sum() == 0  # starts after the window


def test_nothing_above_threshold_gives_no_notes() -> None:
    quiet = np.full((100, 88), 0.2, np.float32)
    assert decode_notes(quiet, quiet, quiet, 0.5, 0.5) == []


def test_monophonic_keeps_the_loudest_of_a_chord_and_cuts_overlaps() -> None:
    notes = [
        SecondsNote(60, 50, 0.0, 1.0),
        SecondsNote(72, 90, 0.0, 1.0),
        SecondsNote(62, 70, 0.5, 1.2),
    ]
    assert keep_monophonic(notes) == [SecondsNote(72, 90, 0.0, 0.5), SecondsNote(62, 70, 0.5, 1.2)]


def test_frontend_puts_a_tone_on_its_pitch() -> None:
    import torch

    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tone = torch.from_numpy((0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32))[None]
    features = Frontend()(tone)  # (1, harmonics, frames, bins)
    fundamental = features[0, 1].mean(dim=0)  # harmonic 1
    assert int(fundamental.argmax()) == (69 - 21) * 3 + 1


def test_chunked_inference_matches_one_pass(
    tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(SAMPLE_RATE * 3)).astype(np.float32)
    model = Transcriber.from_checkpoint(tiny_checkpoint)
    whole = model.posteriors(audio)
    monkeypatch.setattr(transcriber_module, "CHUNK_FRAMES", 50)
    chunked = model.posteriors(audio)
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)
