"""Evaluate vocal-tts on held-out sentences; prints one JSON object.

- Intelligibility: pocketsphinx (bundled US English model) word error rate on speech rendered
  with the teacher's own timing and intonation: this model (neural vocoder), the same mels
  through Griffin-Lim, and espeak-ng itself (the goal: within 5 points of espeak-ng). Twice:
  with pocketsphinx's open-vocabulary language model (near its ceiling: it barely understands
  espeak-ng's formant voice) and with a closed vocabulary, a JSGF loop over the held-out
  sentences' words in any order, which leaves the acoustics to decide and so separates voices.
- Timing: sung lines on random melodies; spectral-flux onsets against the requested note
  starts (median and p95 error, misses). The WORLD-sung teacher rendering of the same plan is
  measured the same way, so the detector's own error is visible.
- Pitch: median absolute error in cents between the sung f0 (WORLD DIO) and the melody, on
  vowel frames away from note transitions; baselines: Griffin-Lim on the model's mels and on
  the teacher's true mels, and the WORLD-sung teacher itself.
- Voices (--voices all): every voice's teacher and the model speaking as that voice (and a
  --baseline checkpoint, same run): closed-vocabulary WER and mel-cepstral distortion to the
  Festival HTS teacher and to espeak-ng (`voice_eval.py`); the goal is the model's WER within
  5 points of the best teacher's. Singing is then checked for every voice too.
Usage: dawhost eval vocal-tts --json [--sentences 12] [--checkpoint FILE] [--voices all]
       [--baseline FILE] [--only voices,singing] [--sung-sentences N] [--pruned-recogniser]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from host import Note
from host.progress import track
from plugins.vocal_tts import teachers
from plugins.vocal_tts.audio import HOP, SAMPLE_RATE, log_mel
from plugins.vocal_tts.checkpoint import DEFAULT_CHECKPOINT, Bundle, load
from plugins.vocal_tts.corpus import sentences, split
from plugins.vocal_tts.espeak import Utterance
from plugins.vocal_tts.griffin_lim import griffin_lim
from plugins.vocal_tts.onsets import detect_onsets, onset_errors
from plugins.vocal_tts.phonemes import syllables
from plugins.vocal_tts.pitch import analyse_f0, hz_to_midi
from plugins.vocal_tts.plan import spoken_plan
from plugins.vocal_tts.synthesis import Prepared, Request, prepare, render
from plugins.vocal_tts.teacher import resynthesise, world_analysis
from plugins.vocal_tts.voices import VOICE_NAMES, register_of, speaker_of

TEMPO = 100.0


def word_error_rate(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference length)."""
    ref = re.findall(r"[a-z']+", reference.lower())
    hyp = re.findall(r"[a-z']+", hypothesis.lower())
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1], len(ref)


def words_of(texts: Sequence[str]) -> list[str]:
    return sorted({word for text in texts for word in re.findall(r"[a-z']+", text.lower())})


# Narrower beams for long evaluations: the closed-vocabulary loop over ~180 words takes about
# 15 s of CPU per sentence at pocketsphinx's defaults and 1.5 s with these (on 3 espeak-ng
# sentences the word errors went 10, 4, 9 -> 10, 4, 11). Figures compare within one run only.
PRUNED_BEAMS = {"beam": 1e-30, "wbeam": 1e-20}


class Recogniser:
    """pocketsphinx on 16 kHz audio; with `vocabulary`, only those words, in any order;
    `pruned` searches with PRUNED_BEAMS. Every call is independent of the ones before it.

    The model's feat.params sets `-cmn batch` (a per-utterance mean, and it overrides keyword
    arguments) but also `-remove_noise yes`, whose spectral noise estimate the decoder carried
    from one utterance into the next: the same audio scored differently after other audio
    (flite-rms model, 5 sentences: 27.3 % WER alone, 20.0 % after two other voices).
    `reinit_feat()` before each utterance rebuilds the front end from the configuration
    (noise estimate and CMN back to their initial values): about 30 microseconds, and the
    hypotheses and scores equal a fresh decoder's, which costs 0.5 s to build."""

    def __init__(self, vocabulary: Sequence[str] | None = None, pruned: bool = False) -> None:
        from pocketsphinx import Decoder

        beams = PRUNED_BEAMS if pruned else {}
        self.decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL", **beams)
        self.score: float | None = None  # the last hypothesis's score
        if vocabulary is not None:
            known = [word for word in vocabulary if self.decoder.lookup_word(word)]
            loop = " | ".join(known)
            grammar = f"#JSGF V1.0;\ngrammar words;\npublic <utterance> = ( {loop} )* ;\n"
            self.decoder.add_jsgf_string("words", grammar)
            self.decoder.activate_search("words")

    def __call__(self, audio: np.ndarray) -> str:
        padded = np.concatenate([np.zeros(4000), audio, np.zeros(4000)])
        peak = float(np.abs(padded).max()) or 1.0
        pcm = (padded * (0.9 / peak) * 32767).astype(np.int16).tobytes()
        self.decoder.reinit_feat()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hypothesis = self.decoder.hyp()
        self.score = hypothesis.score if hypothesis else None
        return hypothesis.hypstr if hypothesis else ""


def spoken_prepared(text: str, voice: str, utterance: Utterance | None = None) -> Prepared:
    """Speech with the teacher's timing and intonation: the acoustic model and vocoder alone.
    `utterance` is the teacher's speech of `text` when the caller has it already."""
    if utterance is None:
        utterance = teachers.speak(text, voice, 170)
    frames = len(utterance.audio) // HOP
    plan = spoken_plan(utterance.phones, frames * HOP)
    f0 = analyse_f0(utterance.audio[: frames * HOP], frames)
    return Prepared(plan, f0, frames * HOP, speaker_of(voice), [], utterance)


def intelligibility(bundle: Bundle, texts: Sequence[str], voice: str) -> dict[str, Any]:
    recognisers = {"open": Recogniser(), "closed": Recogniser(words_of(texts))}
    systems = ("model", "griffin_lim", "espeak_ng")
    errors = {(kind, name): 0 for kind in recognisers for name in systems}
    words = 0
    examples = []
    mel_distance: dict[str, list[float]] = {}
    for text in track(texts, "vocal-tts: intelligibility", unit="sentence"):
        prepared = spoken_prepared(text, voice)
        assert prepared.utterance is not None
        outputs = {
            "model": render(bundle, prepared, "neural"),
            "griffin_lim": render(bundle, prepared, "griffin-lim"),
            "espeak_ng": prepared.utterance.audio,
        }
        teacher_mel = log_mel(torch.from_numpy(prepared.utterance.audio[: prepared.samples]))
        with torch.inference_mode():  # copy synthesis: the vocoder alone, on the teacher's mel
            normalised = (teacher_mel - torch.from_numpy(bundle.mel_mean)) / torch.from_numpy(
                bundle.mel_std
            )
            f0 = torch.from_numpy(prepared.f0.astype(np.float32)).unsqueeze(0)
            copied = bundle.vocoder(normalised.unsqueeze(0), f0)[0].numpy()
        for name, audio in {**outputs, "vocoder_on_teacher_mel": copied}.items():
            if name != "espeak_ng":
                distance = log_mel(torch.from_numpy(audio[: prepared.samples])) - teacher_mel
                mel_distance.setdefault(name, []).append(float(distance.abs().mean()))
        heard = {}
        for name, audio in outputs.items():
            for kind, recognise in recognisers.items():
                heard[f"{name}_{kind}"] = recognise(audio)
                edits, count = word_error_rate(text, heard[f"{name}_{kind}"])
                errors[kind, name] += edits
        words += count
        examples.append({"text": text, **heard})

    def rates(kind: str) -> dict[str, float]:
        return {name: round(100.0 * errors[kind, name] / max(words, 1), 1) for name in systems}

    wer, closed = rates("open"), rates("closed")
    return {
        "wer_percent": wer,
        "wer_gap_to_espeak_points": round(wer["model"] - wer["espeak_ng"], 1),
        "wer_percent_closed_vocabulary": closed,
        "closed_vocabulary_gap_to_espeak_points": round(closed["model"] - closed["espeak_ng"], 1),
        "vocabulary_words": len(words_of(texts)),
        "words": words,
        # Mean |log-mel difference| (natural-log units) to the espeak-ng audio, lower is better.
        "log_mel_l1_to_espeak": {
            name: round(float(np.mean(v)), 3) for name, v in mel_distance.items()
        },
        "examples": examples[:3],
    }


def melody_for(count: int, rng: np.random.Generator, shift: int = 0) -> list[Note]:
    """A random tune for `count` syllables in the female range, moved by `shift` semitones."""
    notes, beat, pitch = [], 1.0, int(rng.integers(62, 70))
    for _ in range(count):
        length = float(rng.choice([0.5, 1.0, 1.0, 1.5, 2.0]))
        notes.append(Note(pitch + shift, 100, beat, length * 0.9))
        beat += length + (0.5 if rng.random() < 0.15 else 0.0)
        pitch = int(np.clip(pitch + rng.choice([-4, -2, -1, 0, 1, 2, 3, 5]), 57, 76))
    return notes


def singing(
    bundle: Bundle, texts: Sequence[str], voice: str, seed: int, griffin: bool = True
) -> dict[str, Any]:
    """Onset and pitch errors of sung lines; `griffin` adds the two Griffin-Lim baselines."""
    rng = np.random.default_rng(seed)
    shift = -12 if register_of(voice) == "male" else 0
    onset: dict[str, list[float]] = {
        "model": [],
        "griffin_lim": [],
        "teacher": [],
        "griffin_lim_on_teacher_mel": [],
    }
    missed = dict.fromkeys(onset, 0)
    detected = dict.fromkeys(onset, 0)
    cents: dict[str, list[float]] = {name: [] for name in onset}
    requested = 0
    measured_systems: set[str] = set()
    for text in track(texts, f"vocal-tts: singing ({voice})", unit="line"):
        count = len(syllables(teachers.speak(text, voice).phones, text))
        notes = melody_for(count, rng, shift)
        beats = notes[-1].start + notes[-1].duration + 1.0
        bars = int(np.ceil(beats / 4.0))
        if bars > 24:
            continue
        prepared = prepare(Request(text, "sing", notes, TEMPO, 4.0, bars=bars, voice=voice))
        assert prepared.utterance is not None
        frames = len(prepared.utterance.audio) // HOP
        _, sp, ap = world_analysis(prepared.utterance.audio[: frames * HOP], frames)
        teacher = resynthesise(prepared.plan, prepared.f0, sp, ap)[: prepared.samples]
        outputs = {
            "model": render(bundle, prepared, "neural"),
            "teacher": np.pad(teacher, (0, max(0, prepared.samples - len(teacher)))),
        }
        if griffin:
            outputs["griffin_lim"] = render(bundle, prepared, "griffin-lim")
            # Griffin-Lim given the teacher's true mel: how much pitch a mel alone can carry.
            outputs["griffin_lim_on_teacher_mel"] = griffin_lim(
                log_mel(torch.from_numpy(outputs["teacher"]))
            ).numpy()
        starts = np.array([t["start_seconds"] for t in prepared.timings])
        requested += len(starts)
        target = _note_pitch_frames(notes, prepared)
        for name, audio in outputs.items():
            measured_systems.add(name)
            found = detect_onsets(audio)
            detected[name] += len(found)
            errs, miss = onset_errors(starts, found)
            onset[name].extend(errs.tolist())
            missed[name] += miss
            measured = analyse_f0(audio, len(target))
            use = (target > 0) & (measured > 0)
            cents[name].extend((100 * np.abs(hz_to_midi(measured[use]) - target[use])).tolist())
    return {
        "onset_error_ms": {
            name: {
                "median": round(1000 * float(np.median(v)), 1) if v else None,
                "p95": round(1000 * float(np.percentile(v, 95)), 1) if v else None,
                "missed": missed[name],
                "detected": detected[name],
            }
            for name, v in onset.items()
            if name in measured_systems
        },
        "requested_onsets": requested,
        "pitch_error_cents_median": {
            name: round(float(np.median(v)), 1) for name, v in cents.items() if v
        },
        "pitch_frames": {name: len(v) for name, v in cents.items() if v},
    }


def _note_pitch_frames(notes: Sequence[Note], prepared: Prepared) -> np.ndarray:
    """The melody's MIDI pitch on vowel frames at least 60 ms away from note edges, else 0."""
    target = np.zeros(prepared.plan.frames)
    per_frame = 100.0 * 60.0 / TEMPO
    for note in notes:
        start = int(round(note.start * per_frame)) + 6
        end = int(round((note.start + note.duration) * per_frame)) - 6
        if end > start:
            target[start:end] = note.pitch
    return target * prepared.plan.vowel * (prepared.f0 > 0)


def _voice_list(text: str) -> list[str]:
    voices = list(VOICE_NAMES) if text == "all" else [v for v in text.split(",") if v]
    unknown = sorted(set(voices) - set(VOICE_NAMES))
    if unknown:
        raise SystemExit(f"unknown voices {unknown}; choose from {', '.join(VOICE_NAMES)}")
    return voices


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate vocal-tts (JSON report)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument(
        "--baseline", type=Path, help="a second checkpoint scored in the same run (per voice)"
    )
    parser.add_argument("--sentences", type=int, default=12)
    parser.add_argument("--voice", default="female", choices=VOICE_NAMES)
    parser.add_argument(
        "--voices",
        default="",
        help="comma-separated voices, or all: WER and MCD of each voice and its teacher",
    )
    parser.add_argument(
        "--sung-sentences", type=int, default=0, help="sentences sung per voice (0: --sentences)"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated parts to run: intelligibility, voices, singing (default: all; "
        "voices needs --voices)",
    )
    parser.add_argument(
        "--pruned-recogniser",
        action="store_true",
        help="narrower pocketsphinx beams for --voices (about 10x faster; same run compares)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="(the report is always JSON)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    from plugins.vocal_tts.checkpoint import knows_voice
    from plugins.vocal_tts.voice_eval import evaluate_voices, summary

    started = time.time()
    bundle = load(args.checkpoint)
    bundles = {"model": bundle}
    if args.baseline is not None:
        bundles["baseline"] = load(args.baseline)
    held_out = split(sentences())["test"][: args.sentences]
    sung = held_out[: args.sung_sentences or len(held_out)]
    voices = _voice_list(args.voices) or [args.voice]
    parts = {p for p in args.only.split(",") if p} or {"intelligibility", "voices", "singing"}
    if parts - {"intelligibility", "voices", "singing"}:
        parser.error(f"--only takes intelligibility, voices, singing; not {args.only!r}")
    report: dict[str, Any] = {
        "model": "vocal-tts",
        "checkpoint": str(args.checkpoint),
        "baseline": str(args.baseline) if args.baseline else None,
        "training": bundle.stats.get("history", [{}])[-1],
        "sentences": len(held_out),
        "voice": args.voice,
    }
    if "intelligibility" in parts:
        report["intelligibility"] = intelligibility(bundle, held_out, args.voice)
    if "voices" in parts and args.voices:
        table = evaluate_voices(bundles, held_out, voices, pruned=args.pruned_recogniser)
        report["per_voice"] = table
        report["goal"] = {name: summary(table, name) for name in bundles}
    if "singing" in parts:
        report["singing"] = {
            name: {
                voice: singing(b, sung, voice, args.seed, griffin=voice == args.voice)
                for voice in voices
                if knows_voice(b, voice)
            }
            for name, b in bundles.items()
        }
    report["seconds"] = round(time.time() - started, 1)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
