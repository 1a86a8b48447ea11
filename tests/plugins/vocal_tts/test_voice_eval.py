"""The per-voice evaluation: audio as a user measures it, the goal check, and one small run
that scores a teacher and a model voice side by side."""

from __future__ import annotations

import numpy as np

from plugins.vocal_tts.audio import SAMPLE_RATE
from plugins.vocal_tts.checkpoint import Bundle
from plugins.vocal_tts.voice_eval import audio_facts, evaluate_voices, summary


def test_audio_facts_measure_level_length_and_silence() -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    audio = np.concatenate([0.5 * np.sin(2 * np.pi * 220 * t), np.zeros(SAMPLE_RATE)])
    facts = audio_facts(audio.astype(np.float32))
    assert facts["seconds"] == 2.0 and abs(facts["peak_dbfs"] + 6.02) < 0.05
    assert abs(facts["rms_dbfs"] - (20 * np.log10(0.5 / np.sqrt(2)) - 3.01)) < 0.05
    assert facts["silent_fraction"] == 0.5


def _table(teacher: dict[str, float], model: dict[str, float]) -> dict[str, object]:
    voices = {
        v: {
            "teacher": {"wer_percent_closed_vocabulary": teacher[v]},
            "model": {"wer_percent_closed_vocabulary": model[v]},
        }
        for v in teacher
    }
    return {"voices": voices}


def test_goal_is_the_best_model_voice_within_5_points_of_the_best_teacher() -> None:
    met = summary(_table({"a": 30.0, "b": 50.0}, {"a": 60.0, "b": 34.0}))
    assert met["best_teacher"] == "a" and met["best_model_voice"] == "b"
    assert met["gap_to_best_teacher_points"] == 4.0 and met["goal_met"]
    assert not summary(_table({"a": 30.0}, {"a": 35.5}))["goal_met"]


def test_one_sentence_two_voices_in_one_run(tiny_bundle: Bundle) -> None:
    texts = ["Seven green apples on the table."]
    report = evaluate_voices({"model": tiny_bundle}, texts, ["flite-slt", "male"], pruned=True)
    assert report["words"] == 6 and report["recogniser"] == "pruned beams"
    voices = report["voices"]
    for voice in ("flite-slt", "male"):
        teacher, model = voices[voice]["teacher"], voices[voice]["model"]
        # A real teacher is understood; the untrained tiny model makes noise.
        assert teacher["wer_percent_closed_vocabulary"] <= 50.0, teacher
        assert model["mcd_db_to_hts"] > 0 and teacher["mcd_db_to_espeak_ng"] > 0
        assert model["audio"]["peak_dbfs"] < -1.5 and model["audio"]["seconds"] > 1.0
    # flite's slt and the HTS voice were both built from the same speaker's recordings.
    slt, male = voices["flite-slt"]["teacher"], voices["male"]["teacher"]
    assert slt["mcd_db_to_hts"] < male["mcd_db_to_hts"]
