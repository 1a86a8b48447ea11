"""The data builder: arrangements are deterministic and musical (drums on the beat grid at the
song's tempo, bass below the melody), renders put each stem's sound in its own file, and the
recorded split keeps test pieces out of training."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.separation.arrangement import KICK, SNARE, Event, arrange, drum_pattern
from plugins.separation.build_data import load_split, tasks
from plugins.separation.stems import HELD_OUT_SOUNDFONT, STEMS, TRAIN_SOUNDFONTS, soundfont_path


def _voices() -> list[list[Event]]:
    """Four voices of a I-IV-V-I cadence, two beats a chord."""
    chords = [(72, 67, 64, 48), (72, 69, 65, 53), (71, 67, 62, 55), (72, 67, 64, 48)]
    return [
        [Event(2.0 * i, 2.0, chord[v], 80) for i, chord in enumerate(chords)] * 1 for v in range(4)
    ]


def test_drums_follow_the_bar_grid() -> None:
    events = drum_pattern(16.0, 4.0, np.random.default_rng(3))
    assert events == sorted(events, key=lambda e: e.start)
    assert all(0 <= e.start < 16.0 for e in events)
    on_grid = [abs(e.start * 4 - round(e.start * 4)) < 0.2 for e in events]  # 16ths, +jitter
    assert np.mean(on_grid) > 0.9
    keys = {e.pitch for e in events}
    assert KICK in keys and (SNARE in keys or 39 in keys or 40 in keys)


def test_arrangement_is_deterministic_and_has_every_stem() -> None:
    one = arrange("x", _voices(), 4.0, np.random.default_rng(7))
    two = arrange("x", _voices(), 4.0, np.random.default_rng(7))
    assert one == two
    assert {p.stem for p in one.parts} == set(STEMS)
    bass = next(p for p in one.parts if p.stem == "bass")
    vocals = next(p for p in one.parts if p.stem == "vocals")
    assert max(e.pitch for e in bass.events) < min(e.pitch for e in vocals.events)
    assert 70 <= one.tempo <= 150


def test_render_keeps_stems_apart() -> None:
    pytest.importorskip("fluidsynth")
    from plugins.separation.synth import SoundfontRenderer

    song = arrange("x", _voices(), 4.0, np.random.default_rng(1), max_seconds=4.0)
    song.gains_db = {stem: 0.0 for stem in STEMS}
    renderer = SoundfontRenderer(soundfont_path(HELD_OUT_SOUNDFONT), 8000)
    try:
        stems = renderer.render(song)
    finally:
        renderer.close()
    lengths = {a.shape for a in stems.values()}
    assert len(lengths) == 1 and next(iter(lengths))[1] == 2
    for stem, audio in stems.items():
        assert np.sqrt(np.mean(audio**2)) == pytest.approx(0.1, rel=0.05), stem  # levelled

    def centroid(audio: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(audio.mean(axis=1)))
        return float(np.sum(spectrum * np.arange(spectrum.size)) / np.sum(spectrum))

    assert centroid(stems["bass"]) < centroid(stems["vocals"])


def test_a_song_renders_the_same_whatever_was_rendered_before() -> None:
    """A build's worker renders many songs in turn; which ones came first must not show."""
    pytest.importorskip("fluidsynth")
    from plugins.separation.synth import SoundfontRenderer

    song = arrange("x", _voices(), 4.0, np.random.default_rng(1), max_seconds=4.0)
    other = arrange("y", _voices(), 4.0, np.random.default_rng(2), max_seconds=3.0)
    renderer = SoundfontRenderer(soundfont_path(HELD_OUT_SOUNDFONT), 8000)
    try:
        first = renderer.render(song)
        renderer.render(other)
        again = renderer.render(song)
    finally:
        renderer.close()
    for stem in STEMS:
        assert np.array_equal(first[stem], again[stem]), stem


def test_split_keeps_test_pieces_out_and_holds_out_a_soundfont() -> None:
    split = load_split()
    assert not set(split["test"]) & set(split["train"])
    assert not set(split["val"]) & set(split["train"])
    planned = tasks(split)
    train_fonts = {t.soundfont for t in planned if t.split == "train"}
    test_fonts = {t.soundfont for t in planned if t.split == "test"}
    assert HELD_OUT_SOUNDFONT in test_fonts and HELD_OUT_SOUNDFONT not in train_fonts
    assert {t.piece for t in planned if t.split == "test"} == set(split["test"])


def test_sung_takes_are_training_pieces_only() -> None:
    split = load_split()
    sung = [t for t in tasks(split) if t.sung]
    assert sung and all(t.split == "train" and t.name.endswith("__sung") for t in sung)
    assert {t.piece for t in sung} <= set(split["train"])
    assert len({t.name for t in tasks(split)}) == len(tasks(split))  # no take overwrites one


def test_fit_to_voice_moves_the_line_into_a_range_by_octaves() -> None:
    from plugins.separation.sung import fit_to_voice
    from plugins.vocal_tts.melody import VOICE_RANGE

    for line in ([72, 74, 76, 79], [48, 50, 52], [84, 86, 88, 91], [30, 33, 35]):
        voice, shift = fit_to_voice(line)
        low, high = VOICE_RANGE[voice]
        assert shift % 12 == 0
        assert low <= np.median(line) + shift <= high, (line, voice, shift)


def test_vocal_tts_sings_the_melody_at_its_pitch() -> None:
    from plugins.separation.arrangement import Part, Song
    from plugins.separation.sung import sung_melody

    rate, tempo = 11_025, 120.0
    song = Song("t", tempo, 8.0, [Part("vocals", 52, [Event(0.0, 2.0, 69, 90)])])  # A4, 1 s
    frames = 4 * rate
    line = sung_melody(song, 4.0, rate, frames, np.random.default_rng(0))
    assert line is not None and line.shape == (frames,)
    held = line[int(0.3 * rate) : int(0.9 * rate)]  # the vowel, past the consonant
    assert np.sqrt(np.mean(held**2)) > 0.05
    assert np.max(np.abs(line[int(1.3 * rate) :])) < 1e-3  # silent after the note
    spectrum = np.abs(np.fft.rfft(held * np.hanning(held.size)))
    freqs = np.fft.rfftfreq(held.size, 1 / rate)
    low = freqs < 1000  # the fundamental is the strongest low peak of a sung A4
    assert abs(freqs[low][np.argmax(spectrum[low])] - 440.0) < 15


def test_only_renders_one_group_and_keeps_the_rest_of_the_index(tmp_path) -> None:
    import json

    from plugins.separation.build_data import main

    (tmp_path / "index.json").write_text(json.dumps([{"name": "earlier", "split": "test"}]))
    assert main(["--out", str(tmp_path), "--only", "val", "--limit", "1", "--workers", "1"]) == 0
    index = json.loads((tmp_path / "index.json").read_text())
    assert [i["split"] for i in index] == ["test", "val"]
    assert len(list((tmp_path / "val").glob("*.npy"))) == 1
    assert not (tmp_path / "train").exists()
    build = json.loads((tmp_path / "build.json").read_text())
    assert build["packages"]["numpy"] == np.__version__
    assert set(build["soundfont_bytes"]) == {*TRAIN_SOUNDFONTS, HELD_OUT_SOUNDFONT}
