"""The train and eval tasks end to end on a tiny synthetic data set (sine tones, no FluidSynth):
training writes a loadable checkpoint (MelNet's and the vocoder's), the evaluation prints one JSON
object with its figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from plugins.melnet.audio import SAMPLE_RATE, log_mel
from plugins.melnet.plugin import register_tasks
from plugins.melnet.train import load_checkpoint
from plugins.melnet.vocoder import MelVocoder, VocoderConfig, load_vocoder, save_vocoder


def _tone_clip(root: Path, name: str, pitch: int) -> dict[str, object]:
    seconds = 2.5
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    hz = 440.0 * 2 ** ((pitch - 69) / 12)
    audio = (0.3 * np.sin(2 * np.pi * hz * t) * (t > 0.5) * (t < 2.0)).astype(np.float32)
    notes = np.array([[pitch, 100, 0.5, 2.0]], np.float32)
    np.savez(
        root / "clips" / f"{name}.npz",
        mel=log_mel(audio).astype(np.float16),
        notes=notes,
        instrument=0,
    )
    soundfile.write(root / "clips" / f"{name}.wav", audio, SAMPLE_RATE)
    return {"clip": name, "piece": f"tone-{pitch}", "instrument": "piano", "seconds": seconds}


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "clips").mkdir(parents=True)
    index = [
        {**_tone_clip(root, "00000", 60), "split": "train"},
        {**_tone_clip(root, "00001", 67), "split": "train"},
        {**_tone_clip(root, "00002", 64), "split": "test"},
    ]
    (root / "index.json").write_text(json.dumps(index))
    return root


def test_train_then_eval_print_json(
    tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = {task.kind: task for task in register_tasks() if task.name == "melnet"}
    assert set(tasks) == {"train", "eval", "bench"}
    multi, single = tmp_path / "m.pt", tmp_path / "s.pt"
    common = ["--data", str(tiny_data), "--minutes", "0.005", "--hidden", "4", "--frames", "32"]
    assert tasks["train"].main([*common, "--out", str(multi)]) == 0
    assert tasks["train"].main([*common, "--out", str(single), "--tiers", "1"]) == 0
    model, info = load_checkpoint(multi)
    assert model.config.tiers == 3 and int(info["steps"]) >= 1  # type: ignore[call-overload]
    capsys.readouterr()
    vocoder = tmp_path / "vocoder.pt"  # untrained: the evaluation's plumbing, not its figures
    save_vocoder(vocoder, MelVocoder(VocoderConfig(width=8, blocks=1)), {"step": 0})
    assert (
        tasks["eval"].main(
            [
                "--json",
                "--data",
                str(tiny_data),
                "--checkpoint",
                str(multi),
                "--single-tier",
                str(single),
                "--snapshot",
                str(multi),
                "--clips",
                "1",
                "--seconds",
                "1",
                "--vocoder",
                str(vocoder),
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    nll = report["test_nll_nats_per_bin"]
    assert np.isfinite(nll["multiscale"]["nll"]) and np.isfinite(nll["single_tier"]["nll"])
    per_tier = nll["multiscale"]["per_tier_nll"]
    assert len(per_tier) == 3
    # tiers generate 1/4, 1/4 and 1/2 of the bins: the overall figure is their weighted mean
    weighted = 0.25 * per_tier[0] + 0.25 * per_tier[1] + 0.5 * per_tier[2]
    assert abs(weighted - nll["multiscale"]["nll"]) < 2e-3
    renders = report["renders_vs_fluidsynth"]
    assert {"multiscale", "multiscale_griffin_lim", "baseline_sine_synth"} <= set(renders)
    assert all(np.isfinite(r["mr_stft"]) for r in renders.values())
    vocoding = report["vocoders_on_reference_spectrograms"]
    assert vocoding["clips"] == 1 and {"neural", "griffin_lim"} <= set(vocoding)
    # resynthesising the reference's own spectrogram lands close to it
    assert vocoding["griffin_lim"]["lsd_db"] < 5.0 and vocoding["neural"]["real_time_factor"] > 0
    assert np.isfinite(vocoding["neural"]["mr_stft"])
    band_limited = report["vocoders_on_band_limited_input"]
    assert {"neural", "griffin_lim"} <= set(band_limited["pure_tones"])
    assert band_limited["low_passed_clips"]["griffin_lim"]["lsd_db"] < 5.0
    levels = report["per_note_levels"]
    assert {
        "multiscale",
        "baseline_griffin_lim_of_reference",
        "baseline_neural_of_reference",
    } <= set(levels)
    assert levels["multiscale"]["notes"] == 1 and "dropped_notes" in levels["multiscale"]
    assert levels["multiscale"]["by_instrument"]["piano"]["notes"] == 1
    # the level figure is what shows a muting vocoder: Griffin-Lim keeps a pure tone's level
    assert abs(band_limited["pure_tones"]["griffin_lim"]["level_error_db"]) < 3.0
    each = band_limited["pure_tones"]["griffin_lim"]["level_error_db_each"]
    assert len(each) == len(band_limited["tones_hz"])
    assert np.mean(each) == pytest.approx(
        band_limited["pure_tones"]["griffin_lim"]["level_error_db"], abs=0.01
    )


def test_train_vocoder_task_writes_a_loadable_checkpoint(tiny_data: Path, tmp_path: Path) -> None:
    (task,) = [t for t in register_tasks() if (t.kind, t.name) == ("train", "melnet-vocoder")]
    cache = tiny_data / "vocoder_audio"  # the training audio, as if FluidSynth had rendered it
    cache.mkdir()
    for name in ("00000", "00001"):
        audio, _ = soundfile.read(tiny_data / "clips" / f"{name}.wav", dtype="float32")
        np.save(cache / f"{name}.npy", audio)
    out = tmp_path / "vocoder.pt"
    tiny = ["--width", "8", "--blocks", "1", "--minutes", "0.003"]
    assert task.main(["--data", str(tiny_data), "--out", str(out), *tiny]) == 0
    assert load_vocoder(out).config == VocoderConfig(width=8, blocks=1)


def test_note_levels_only_compares_a_candidate_in_the_same_run(
    tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = {task.kind: task for task in register_tasks() if task.name == "melnet"}
    first, second = tmp_path / "a.pt", tmp_path / "b.pt"
    common = ["--data", str(tiny_data), "--minutes", "0.003", "--hidden", "4", "--frames", "32"]
    assert tasks["train"].main([*common, "--out", str(first)]) == 0
    perturbed = ["--history-level-sd", "0.2", "--history-noise-sd", "0.1"]
    assert (
        tasks["train"].main([*common, "--out", str(second), "--start-from", str(first), *perturbed])
        == 0
    )
    capsys.readouterr()
    argv = ["--json", "--data", str(tiny_data), "--checkpoint", str(first), "--candidate"]
    argv += [str(second), "--note-levels-only", "--clips", "1", "--seconds", "1"]
    argv += ["--vocoder", str(tmp_path / "no-vocoder.pt")]
    _, info = load_checkpoint(second)
    assert info["started_from"] == str(first) and info["history_level_sd"] == 0.2
    assert tasks["eval"].main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert "test_nll_nats_per_bin" not in report
    assert "vocoders_on_reference_spectrograms" not in report
    assert {"multiscale", "candidate", "baseline_griffin_lim_of_reference"} <= set(
        report["per_note_levels"]
    )
    # the reference's own spectrogram through Griffin-Lim keeps the note's level
    assert report["per_note_levels"]["baseline_griffin_lim_of_reference"]["dropped_notes"] == 0
