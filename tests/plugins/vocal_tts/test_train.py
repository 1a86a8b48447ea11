"""The data builder and trainer end to end on two sentences, with tiny networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from host import Note
from plugins.vocal_tts.build_data import build
from plugins.vocal_tts.checkpoint import load
from plugins.vocal_tts.dataset import read_shard
from plugins.vocal_tts.synthesis import Request, prepare, render
from plugins.vocal_tts.train import train


def test_build_then_train_gives_a_checkpoint_that_sings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    texts = ["Sing a little song tonight.", "The river runs along the valley."]
    assert build(texts, data / "train", sung_per_sentence=1, seed=0) == 4
    rows = read_shard(data / "train" / "shard000.npz")
    for symbols, durations, f0, audio, _, _ in rows:
        assert len(symbols) == len(durations) and durations.sum() == len(f0)
        assert len(audio) == len(f0) * 160 and np.abs(audio).max() > 0.05
    assert [row[5] for row in rows] == [False, True, False, True]

    checkpoint = tmp_path / "tiny.pt"
    scores = train(data, checkpoint, minutes=0.02, seed=0, tiny=True, save_every=1e9)
    assert scores["acoustic_l1"] > 0 and scores["vocoder_stft"] > 0
    bundle = load(checkpoint)
    assert len(bundle.vocabulary) > 10
    prepared = prepare(
        Request("la la", "sing", [Note(64, 90, 0, 1), Note(67, 90, 1, 1)], 120.0, 4.0, bars=1)
    )
    assert len(render(bundle, prepared)) == 32_000


def test_fine_tuning_grows_the_tables_and_keeps_what_was_learned(tmp_path: Path) -> None:
    """--init: an old two-voice checkpoint (espeak-ng symbols only) becomes one with every
    voice and the Festival/flite phones; known rows are copied, new voices start at the mean."""
    from plugins.vocal_tts.acoustic import AcousticConfig, AcousticModel
    from plugins.vocal_tts.checkpoint import Bundle, save
    from plugins.vocal_tts.phonemes import Vocabulary
    from plugins.vocal_tts.train import grown_from
    from plugins.vocal_tts.vocoder import HarmonicPlusNoise, VocoderConfig
    from plugins.vocal_tts.voices import VOICE_NAMES

    old_vocabulary = Vocabulary(["a", "b", "@"])
    old = Bundle(
        old_vocabulary,
        AcousticModel(
            AcousticConfig(len(old_vocabulary), width=8, encoder_layers=1, decoder_layers=1)
        ),
        HarmonicPlusNoise(VocoderConfig(harmonics=4, noise_bands=2, width=8, layers=1)),
        np.zeros(80, np.float32),
        np.ones(80, np.float32),
    )
    vocabulary = Vocabulary(["a", "b", "@", "aa", "hh"])
    grown = grown_from(old, vocabulary, len(VOICE_NAMES))
    for symbol in ("a", "@", "_"):
        new_row = grown.phoneme.weight[vocabulary.id(symbol)]
        assert torch.equal(new_row, old.acoustic.phoneme.weight[old_vocabulary.id(symbol)])
    speakers = grown.speaker.weight
    assert speakers.shape[0] == len(VOICE_NAMES)
    assert torch.equal(speakers[:2], old.acoustic.speaker.weight)
    assert torch.allclose(speakers[4], old.acoustic.speaker.weight.mean(0))
    assert torch.equal(grown.out.weight, old.acoustic.out.weight)

    old_file = tmp_path / "old.pt"
    save(old, old_file)
    data = tmp_path / "data"
    build(["Sing a little song tonight."], data / "train", 0, seed=1, voices=["flite-rms"])
    train(data, tmp_path / "new.pt", 5, seed=0, save_every=1e9, max_steps=2, init=old_file)
    new = load(tmp_path / "new.pt")
    assert new.stats["voices"] == list(VOICE_NAMES)
    assert new.acoustic.config.width == 8 and new.acoustic.config.speakers == len(VOICE_NAMES)
    assert np.array_equal(new.mel_mean, old.mel_mean)
