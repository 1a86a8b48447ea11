"""`vocoder = wavenet` in vocal-tts and melnet: the WaveNet takes each plugin's own mels and
gives back exactly the samples the plugin asked for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

from host.requests import Done, OutputEvent
from plugins.melnet.render import vocode
from plugins.vocal_tts.checkpoint import DEFAULT_CHECKPOINT as VOCAL_TTS
from plugins.vocal_tts.checkpoint import load as load_bundle
from plugins.vocal_tts.plugin import VocalLine
from plugins.vocal_tts.synthesis import Request, prepare, render
from plugins.wavenet.checkpoint import DEFAULT_CHECKPOINT
from plugins.wavenet.network import WaveNet
from plugins.wavenet.vocoder import WaveNetVocoder
from tests.fakes import run_requests


def test_melnet_vocodes_its_spectrogram_with_the_wavenet(tiny_model: WaveNet) -> None:
    spec = np.random.default_rng(0).normal(size=(30, 64)).astype(np.float32)
    audio = vocode(spec, 7_000, WaveNetVocoder(tiny_model, "music", folds=4))  # type: ignore[arg-type]
    assert audio.shape == (7_000,)


def test_vocal_tts_renders_a_line_through_the_wavenet(tiny_model: WaveNet) -> None:
    from host import Note

    prepared = prepare(
        Request(
            "hot cross buns",
            "sing",
            [Note(67, 100, 0, 1), Note(64, 100, 1, 1), Note(60, 100, 2, 2)],
            240.0,
            4.0,
            bars=1,
        )
    )
    wavenet = WaveNetVocoder(tiny_model, "vocal", folds=8)
    audio = render(load_bundle(VOCAL_TTS), prepared, "wavenet", seed=1, wavenet=wavenet)
    assert audio.shape == (prepared.samples,) == (16_000,)
    assert np.abs(audio).max() > 0


def test_vocal_tts_sings_with_the_shipped_wavenet_through_the_core(tmp_path: Path) -> None:
    assert DEFAULT_CHECKPOINT.is_file(), "the trained WaveNet checkpoint is not shipped"
    model = VocalLine()
    model.checkpoint = VOCAL_TTS
    events = run_requests(
        tmp_path / "work",
        model,
        "sing",
        {
            "inputs": {
                "lyrics": "hot cross buns",
                "notes": [67, 100, 0, 1, 64, 100, 1, 1, 60, 100, 2, 2],
            },
            "options": {"bars": 1, "tempo": 240, "vocoder": "wavenet", "wavenet_folds": 16},
            "seed": 2,
        },
    )[0]
    assert isinstance(events[-1], Done), events[-1]
    wav = next(e for e in events if isinstance(e, OutputEvent) and e.output.name == "vocal")
    assert soundfile.info(str(wav.output.path)).frames == 16_000
