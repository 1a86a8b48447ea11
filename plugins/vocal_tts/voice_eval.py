"""Every voice and every teacher on the same held-out sentences, in one run.

For each voice: its teacher's own speech, and the model speaking with that teacher's timing
and intonation (one or more checkpoints, e.g. a new one and the shipped one). Each is scored by
closed-vocabulary WER (pocketsphinx, a JSGF loop over the sentences' words: the existing
evaluation's recogniser and vocabulary) and by mel-cepstral distortion to the Festival HTS
teacher and to espeak-ng (female) speaking the same sentence: a listening-free naturalness
proxy. The level, length and trailing silence of each rendering are reported as a user would
measure them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from host.progress import track
from plugins.vocal_tts import teachers
from plugins.vocal_tts.audio import SAMPLE_RATE
from plugins.vocal_tts.checkpoint import Bundle, knows_voice
from plugins.vocal_tts.evaluate import Recogniser, spoken_prepared, word_error_rate, words_of
from plugins.vocal_tts.mcd import mel_cepstral_distortion
from plugins.vocal_tts.synthesis import render

REFERENCES = {"hts": "slt-hts", "espeak_ng": "female"}  # MCD references: name -> voice


def audio_facts(audio: np.ndarray) -> dict[str, float]:
    """Peak and RMS in dBFS, length in seconds, and the share of 10 ms frames below -60 dBFS."""
    frames = audio[: len(audio) // 160 * 160].reshape(-1, 160)
    frame_db = 10 * np.log10(np.maximum((frames.astype(np.float64) ** 2).mean(1), 1e-12))
    return {
        "peak_dbfs": round(20 * float(np.log10(max(float(np.abs(audio).max()), 1e-9))), 2),
        "rms_dbfs": round(10 * float(np.log10(max(float(np.mean(audio**2)), 1e-12))), 2),
        "seconds": round(len(audio) / SAMPLE_RATE, 3),
        "silent_fraction": round(float((frame_db < -60).mean()), 3),
    }


def evaluate_voices(
    bundles: Mapping[str, Bundle],
    texts: Sequence[str],
    voices: Sequence[str],
    pruned: bool = False,
) -> dict[str, Any]:
    """{voice: {system: figures}} where system is "teacher" or a name from `bundles`;
    `pruned`: the recogniser's narrower beams (evaluate.PRUNED_BEAMS)."""
    recognise = Recogniser(words_of(texts), pruned=pruned)
    references = {name: teachers.speak_many(texts, voice) for name, voice in REFERENCES.items()}
    report: dict[str, Any] = {}
    for voice in voices:
        spoken = teachers.speak_many(texts, voice)
        systems = ["teacher", *(name for name, b in bundles.items() if knows_voice(b, voice))]
        errors = dict.fromkeys(systems, 0)
        distances: dict[str, dict[str, list[float]]] = {
            s: {r: [] for r in REFERENCES} for s in systems
        }
        facts: dict[str, list[dict[str, float]]] = {s: [] for s in systems}
        examples = []
        words = 0
        pairs = list(enumerate(zip(texts, spoken, strict=True)))
        for index, (text, utterance) in track(pairs, f"vocal-tts: voice {voice}", unit="sentence"):
            prepared = spoken_prepared(text, voice, utterance)
            outputs = {"teacher": utterance.audio[: prepared.samples]}
            for name in systems[1:]:
                outputs[name] = render(bundles[name], prepared, "neural")
            heard = {}
            for name, audio in outputs.items():
                heard[name] = recognise(audio)
                errors[name] += word_error_rate(text, heard[name])[0]
                facts[name].append(audio_facts(audio))
                for reference, audios in references.items():
                    distance = mel_cepstral_distortion(audio, audios[index].audio)
                    distances[name][reference].append(distance)
            words += word_error_rate(text, "")[1]
            if index < 2:
                examples.append({"text": text, **heard})
        report[voice] = {
            name: {
                "wer_percent_closed_vocabulary": round(100.0 * errors[name] / max(words, 1), 1),
                **{
                    f"mcd_db_to_{reference}": round(float(np.mean(values)), 2)
                    for reference, values in distances[name].items()
                },
                "audio": {
                    key: round(float(np.mean([f[key] for f in facts[name]])), 3)
                    for key in facts[name][0]
                },
            }
            for name in systems
        }
        report[voice]["examples"] = examples
    return {
        "voices": report,
        "words": words,
        "vocabulary_words": len(words_of(texts)),
        "mcd_references": REFERENCES,
        "recogniser": "pruned beams" if pruned else "pocketsphinx defaults",
    }


def summary(report: Mapping[str, Any], model: str = "model") -> dict[str, Any]:
    """The goal check: the model's best-voice WER against the best teacher's, in points."""
    voices = report["voices"]
    teacher = {v: r["teacher"]["wer_percent_closed_vocabulary"] for v, r in voices.items()}
    mine = {v: r[model]["wer_percent_closed_vocabulary"] for v, r in voices.items() if model in r}
    best_teacher = min(teacher, key=lambda v: teacher[v])
    out: dict[str, Any] = {
        "best_teacher": best_teacher,
        "best_teacher_wer_percent": teacher[best_teacher],
    }
    if mine:
        best = min(mine, key=lambda v: mine[v])
        out.update(
            best_model_voice=best,
            best_model_wer_percent=mine[best],
            gap_to_best_teacher_points=round(mine[best] - teacher[best_teacher], 1),
            goal_met=mine[best] <= teacher[best_teacher] + 5.0,
        )
    return out
