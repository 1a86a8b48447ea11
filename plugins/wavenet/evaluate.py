"""Evaluate the WaveNet vocoder against the current vocoders and Griffin-Lim; one JSON object.

Copy synthesis on held-out audio (the vocoder's own error, as melnet's vocoder report measures
it): each test clip -> its front-end's log-mel -> each vocoder -> scored against the clip.
- music: melnet test-split pieces rendered by FluidSynth; melnet's Vocos-style vocoder,
  melnet's Griffin-Lim, and the WaveNet on melnet's mels.
- voice: vocal-tts test-split sentences, spoken by espeak-ng and WORLD-sung; the
  harmonic-plus-noise vocoder (given the true f0), vocal-tts's Griffin-Lim, and the WaveNet on
  vocal-tts's mels. Sung clips also give the pitch error in cents (WORLD DIO on the output
  against the f0 the line was sung at, on steadily voiced frames).
Figures: log-spectral distance (dB, melnet's metric), multi-resolution STFT distance (melnet's),
level error (dB). Also the quality cost of folding (the same clips at several fold counts) and
the NLL per sample, conditional against unconditional, on fixed test crops.
Also the WaveNet's LSD at several sampling temperatures, and speech intelligibility: the
closed-vocabulary WER (vocal-tts's pocketsphinx recogniser) of held-out sentences through each
vocoder, by copy synthesis and through vocal-tts's acoustic model (intelligibility.py).
Usage: dawhost eval wavenet --json [--clips 6] [--seconds 4] [--folds 32] [--temperature 0.7]
    [--sentences 24] [--voice female]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from host.progress import Stage, track
from plugins.wavenet.checkpoint import DEFAULT_CHECKPOINT, load
from plugins.wavenet.dataset import Clip, read_clips
from plugins.wavenet.intelligibility import closed_vocabulary_wer, vocal_tts_renderer
from plugins.wavenet.train import DATA_DIR, evaluate_nll
from plugins.wavenet.vocoder import DEFAULT_FOLDS, DEFAULT_TEMPERATURE, WaveNetVocoder

SAMPLE_RATE = 16_000
Vocoder = Callable[[Clip, int], np.ndarray]  # (clip, seed) -> audio of the clip's length


def _rms(audio: np.ndarray) -> float:
    return max(float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))), 1e-9)


def scores(reference: np.ndarray, audio: np.ndarray) -> dict[str, float]:
    from plugins.melnet.evaluate import stft_distance
    from plugins.melnet.metrics import log_spectral_distance

    return {
        "lsd_db": log_spectral_distance(reference, audio),
        "mr_stft": stft_distance(reference, audio),
        "level_error_db": 20 * np.log10(_rms(audio) / _rms(reference)),
    }


def pitch_errors_cents(audio: np.ndarray, target_f0: np.ndarray) -> np.ndarray:
    """|cents| between the output's f0 and the sung f0, on frames voiced in both and with the
    target voiced 3 frames either side (away from onsets and note changes' glides)."""
    from plugins.vocal_tts.pitch import analyse_f0

    measured = analyse_f0(audio, len(target_f0))
    voiced = target_f0 > 0
    steady = voiced.copy()
    for shift in (1, 2, 3):
        steady[shift:] &= voiced[:-shift]
        steady[:-shift] &= voiced[shift:]
    use = steady & (measured > 0)
    return np.abs(1200 * np.log2(measured[use] / target_f0[use]))


def music_vocoders(wavenet: WaveNetVocoder) -> dict[str, Vocoder]:
    from plugins.melnet.audio import griffin_lim, mel_to_linear
    from plugins.melnet.vocoder import DEFAULT_VOCODER, load_vocoder

    neural = load_vocoder(DEFAULT_VOCODER)

    def wavenet_music(clip: Clip, seed: int) -> np.ndarray:
        wavenet.seed = seed
        return wavenet.vocode(clip.mels["music"], clip.audio.size)

    return {
        "melnet_neural": lambda clip, seed: neural.vocode(clip.mels["music"], clip.audio.size),
        "griffin_lim": lambda clip, seed: griffin_lim(
            mel_to_linear(clip.mels["music"]), clip.audio.size, 32, seed
        ),
        "wavenet": wavenet_music,
    }


def voice_vocoders(wavenet: WaveNetVocoder) -> dict[str, Vocoder]:
    from plugins.vocal_tts.checkpoint import DEFAULT_CHECKPOINT as VOCAL_TTS
    from plugins.vocal_tts.checkpoint import load as load_bundle
    from plugins.vocal_tts.griffin_lim import griffin_lim

    bundle = load_bundle(VOCAL_TTS)
    mean, std = (torch.from_numpy(a) for a in (bundle.mel_mean, bundle.mel_std))

    def fit(audio: torch.Tensor | np.ndarray, clip: Clip) -> np.ndarray:
        audio = np.asarray(audio, dtype=np.float32)[: clip.audio.size]
        return np.pad(audio, (0, clip.audio.size - audio.size))

    def harmonic_plus_noise(clip: Clip, seed: int) -> np.ndarray:
        assert clip.f0 is not None
        mel = (torch.from_numpy(clip.mels["vocal"]) - mean) / std
        frames = min(mel.shape[0], clip.f0.size)
        f0 = torch.from_numpy(clip.f0[:frames].astype(np.float32))[None]
        with torch.inference_mode():
            audio = bundle.vocoder(mel[None, :frames], f0, torch.Generator().manual_seed(seed))
        return fit(audio[0], clip)

    def wavenet_voice(clip: Clip, seed: int) -> np.ndarray:
        wavenet.seed = seed
        return wavenet.vocode(clip.mels["vocal"], clip.audio.size)

    return {
        "harmonic_plus_noise": harmonic_plus_noise,
        "griffin_lim": lambda clip, seed: fit(
            griffin_lim(torch.from_numpy(clip.mels["vocal"]), seed=seed), clip
        ),
        "wavenet": wavenet_voice,
    }


def copy_synthesis(
    clips: list[Clip], vocoders: dict[str, Vocoder], sung: bool = False, label: str = "clips"
) -> dict[str, Any]:
    """Every clip through every vocoder: mean figures, pitch error (sung), real-time factor."""
    per: dict[str, dict[str, list[float]]] = {name: {} for name in vocoders}
    cents: dict[str, list[float]] = {name: [] for name in vocoders}
    seconds = dict.fromkeys(vocoders, 0.0)
    stage = Stage(f"wavenet: {label} copy synthesis", len(clips) * len(vocoders), "vocoding")
    for index, clip in enumerate(clips):
        for name, vocoder in vocoders.items():
            started = time.perf_counter()
            audio = vocoder(clip, index)
            seconds[name] += time.perf_counter() - started
            stage.advance()
            for key, value in scores(clip.audio, audio).items():
                per[name].setdefault(key, []).append(float(value))
            if sung and clip.f0 is not None:
                cents[name].extend(pitch_errors_cents(audio, clip.f0).tolist())
    stage.close()
    audio_seconds = sum(c.audio.size for c in clips) / SAMPLE_RATE
    report: dict[str, Any] = {"clips": len(clips), "audio_seconds": round(audio_seconds, 1)}
    for name in vocoders:
        report[name] = {key: round(float(np.mean(v)), 3) for key, v in per[name].items()}
        report[name]["real_time_factor"] = round(seconds[name] / audio_seconds, 3)
        if sung:
            report[name]["pitch_error_cents_median"] = (
                round(float(np.median(cents[name])), 1) if cents[name] else None
            )
            report[name]["pitch_frames"] = len(cents[name])
    return report


def folding_cost(
    model: Any, clips: list[Clip], folds: Sequence[int], front_end: str, temperature: float
) -> dict[str, Any]:
    """The same clips vocoded at each fold count: what cutting into segments costs."""
    report: dict[str, Any] = {"clips": len(clips), "front_end": front_end}
    for count in track(folds, "wavenet: fold study", unit="fold count"):
        vocoder = WaveNetVocoder(model, front_end, folds=count, temperature=temperature)
        figures: dict[str, list[float]] = {}
        started = time.perf_counter()
        for index, clip in enumerate(clips):
            vocoder.seed = index
            audio = vocoder.vocode(clip.mels[front_end], clip.audio.size)
            for key, value in scores(clip.audio, audio).items():
                figures.setdefault(key, []).append(float(value))
            if clip.f0 is not None:
                figures.setdefault("pitch_error_cents", []).extend(
                    pitch_errors_cents(audio, clip.f0).tolist()
                )
        taken = time.perf_counter() - started
        row = {
            k: round(float(np.mean(v)), 3) for k, v in figures.items() if k != "pitch_error_cents"
        }
        if figures.get("pitch_error_cents"):
            row["pitch_error_cents_median"] = round(
                float(np.median(figures["pitch_error_cents"])), 1
            )
        row["real_time_factor"] = round(taken / (sum(c.audio.size for c in clips) / SAMPLE_RATE), 3)
        report[f"folds_{count}"] = row
    return report


def temperature_sweep(
    model: Any, music: list[Clip], sung: list[Clip], temperatures: Sequence[float]
) -> dict[str, Any]:
    """Mean LSD of the WaveNet at each sampling temperature (voice and music clips)."""
    report: dict[str, Any] = {"music_clips": len(music), "sung_clips": len(sung)}
    for temperature in track(temperatures, "wavenet: temperature sweep", unit="temperature"):
        row = {}
        for front_end, clips in (("music", music), ("vocal", sung)):
            vocoder = WaveNetVocoder(model, front_end, temperature=temperature)
            values = []
            for index, clip in enumerate(clips):
                vocoder.seed = index
                audio = vocoder.vocode(clip.mels[front_end], clip.audio.size)
                values.append(scores(clip.audio, audio)["lsd_db"])
            row[f"lsd_db_{front_end}"] = round(float(np.mean(values)), 3)
        report[f"temperature_{temperature:g}"] = row
    return report


def _cut(clips: list[Clip], seconds: float) -> list[Clip]:
    """Each clip's first `seconds` (sampling time is linear in length), mels and f0 cut to
    match (frames are centred, so the kept frames describe exactly the kept samples)."""
    samples = int(seconds * SAMPLE_RATE)
    out = []
    for clip in clips:
        n = min(samples, clip.audio.size)
        mels = {
            "vocal": clip.mels["vocal"][: n // 160],
            "music": clip.mels["music"][: n // 256 + 1],
        }
        f0 = None if clip.f0 is None else clip.f0[: n // 160]
        out.append(Clip(clip.name, clip.audio[: (n // 160) * 160], mels, f0))
    return out


def spoken_wer(count: int, voice: str, wavenet: WaveNetVocoder) -> dict[str, Any]:
    """Closed-vocabulary WER on the first `count` vocal-tts test sentences (held out of the
    WaveNet's training and vocal-tts's), every vocoder on the same sentences."""
    from plugins.vocal_tts.corpus import sentences, split

    held_out = split(sentences())["test"][:count]
    return closed_vocabulary_wer(
        held_out, voice, voice_vocoders(wavenet), vocal_tts_renderer(wavenet)
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON (the only output)")
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--clips", type=int, default=6, help="test clips per kind")
    parser.add_argument("--seconds", type=float, default=4.0, help="first seconds of each clip")
    parser.add_argument("--folds", type=int, default=DEFAULT_FOLDS)
    parser.add_argument("--fold-study", default="1,8,32,64", help="fold counts to compare")
    parser.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE)
    parser.add_argument("--temperatures", default="1.0,0.85,0.7,0.55", help="for the sweep")
    parser.add_argument(
        "--sentences", type=int, default=24, help="held-out sentences for the WER (0: none)"
    )
    parser.add_argument("--voice", default="female", choices=("female", "male"))
    parser.add_argument(
        "--wer-only", action="store_true", help="only the WER section (no clips, no NLL)"
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, info = load(args.checkpoint)
    wavenet = WaveNetVocoder(model, "music", folds=args.folds, temperature=args.temperature)
    started = time.time()
    if args.wer_only:
        wavenet.front_end = "vocal"
        wer = spoken_wer(args.sentences, args.voice, wavenet)
        wer_report: dict[str, Any] = {
            "checkpoint": {"path": str(args.checkpoint), **info},
            "spoken_wer": wer,
        }
        wer_report["wavenet_folds"], wer_report["wavenet_temperature"] = (
            args.folds,
            args.temperature,
        )
        wer_report["seconds"] = round(time.time() - started, 1)
        print(json.dumps(wer_report, indent=2 if not args.json else None))
        return 0
    music = read_clips(args.data / "music_test.npz")
    voice = read_clips(args.data / "voice_test.npz")
    sung = _cut([c for c in voice if c.name.startswith("sung:")][: args.clips], args.seconds)
    spoken = _cut([c for c in voice if c.name.startswith("spoken:")][: args.clips], args.seconds)
    music_cut = _cut(music[: args.clips], args.seconds)
    report: dict[str, Any] = {
        "checkpoint": {"path": str(args.checkpoint), **info},
        "parameters": model.parameter_count(),
        "receptive_field_samples": model.config.receptive_field,
        "wavenet_folds": args.folds,
        "wavenet_temperature": args.temperature,
        "nll_nats_per_sample": evaluate_nll(model, music + voice, crops=32, length=4000),
        "music": copy_synthesis(music_cut, music_vocoders(wavenet), label="music"),
    }
    wavenet.front_end = "vocal"
    voices = voice_vocoders(wavenet)
    report["sung"] = copy_synthesis(sung, voices, sung=True, label="sung")
    report["spoken"] = copy_synthesis(spoken, voices, label="spoken")
    if args.sentences:
        report["spoken_wer"] = spoken_wer(args.sentences, args.voice, wavenet)
    study = [int(f) for f in args.fold_study.split(",") if f]
    report["folding_sung"] = folding_cost(model, sung[:2], study, "vocal", args.temperature)
    report["temperature_sweep"] = temperature_sweep(
        model, music_cut[:2], sung[:2], [float(t) for t in args.temperatures.split(",")]
    )
    report["seconds"] = round(time.time() - started, 1)
    print(json.dumps(report, indent=2 if not args.json else None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
