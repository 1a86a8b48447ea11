"""The WaveNet stage of vocal-tts and melnet reports progress (so `/dawhost/progress` moves
while it samples) and stops on cancel mid-sampling, with the tiny WaveNet standing in."""

from __future__ import annotations

from pathlib import Path

import pytest

import host
from host import Note
from plugins.melnet.plugin import MelNetOptions, MelNetRenderer
from plugins.vocal_tts.checkpoint import DEFAULT_CHECKPOINT as VOCAL_TTS
from plugins.vocal_tts.plugin import VocalLine, VocalLineOptions
from plugins.wavenet.network import WaveNet
from plugins.wavenet.vocoder import WaveNetVocoder

TRANSPORT = host.TransportSnapshot(
    tempo=240.0, numerator=4, denominator=4, playing=False, beat=0.0, time=0.0
)
NOTES = [Note(67, 100, 0, 1), Note(64, 100, 1, 1), Note(60, 100, 2, 2)]


def _job(
    model_id: str, verb: str, options: host.Options, inputs: dict, folder: Path, reports: list
) -> host.Job:
    return host.Job(
        "r1", model_id, verb, options, inputs, 3, TRANSPORT, folder,
        _on_progress=lambda fraction, message: reports.append((fraction, message)),
    )  # fmt: skip


def _vocal_tts(tiny_model: WaveNet) -> VocalLine:
    model = VocalLine()
    model.checkpoint = VOCAL_TTS
    model.ensure_loaded()
    model.wavenet = WaveNetVocoder(tiny_model, "vocal")
    return model


def _sing_job(folder: Path, reports: list) -> host.Job:
    options = VocalLineOptions(bars=1, vocoder="wavenet", wavenet_folds=4)
    inputs = {"lyrics": "hot cross buns", "notes": list(NOTES)}
    return _job("vocal-tts", "sing", options, inputs, folder, reports)


def test_vocal_tts_reports_progress_while_the_wavenet_samples(
    tiny_model: WaveNet, tmp_path: Path
) -> None:
    reports: list[tuple[float, str]] = []
    list(_vocal_tts(tiny_model).run(_sing_job(tmp_path, reports)))
    sampling = [f for f, message in reports if message == "wavenet vocoder"]
    assert len(sampling) >= 20  # the sampler reports about 50 times
    assert 0.7 <= sampling[0] < sampling[-1] <= 0.95
    assert sampling == sorted(sampling)
    assert reports[-1] == (1.0, "done")


def test_cancel_stops_vocal_tts_inside_the_wavenet_stage(
    tiny_model: WaveNet, tmp_path: Path
) -> None:
    reports: list[tuple[float, str]] = []
    job = _sing_job(tmp_path, reports)
    model = _vocal_tts(tiny_model)
    job._on_progress = lambda f, m: (
        reports.append((f, m)),
        m == "wavenet vocoder" and job.cancel(),
    )
    with pytest.raises(host.JobCancelled):
        list(model.run(job))
    assert [m for _, m in reports].count("wavenet vocoder") == 1  # stopped at the next report


def test_melnet_reports_progress_while_the_wavenet_samples(
    tiny_model: WaveNet, tmp_path: Path
) -> None:
    model = MelNetRenderer()
    model.ensure_loaded()
    model.wavenet = WaveNetVocoder(tiny_model, "music")
    reports: list[tuple[float, str]] = []
    options = MelNetOptions(bars=1, vocoder="wavenet", wavenet_folds=4)
    list(model.run(_job("melnet", "render", options, {"notes": NOTES}, tmp_path, reports)))
    vocoding = [f for f, message in reports if message == "vocoder"]
    assert len(vocoding) >= 20  # not just the stage's start and end
    assert 0.85 <= vocoding[0] < vocoding[-1] <= 1.0
    assert vocoding == sorted(vocoding)
