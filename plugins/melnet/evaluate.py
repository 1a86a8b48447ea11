"""Evaluate MelNet on held-out pieces and print one JSON object.

`dawhost eval melnet --json [--clips N]`:
- test NLL (nats per spectrogram bin) of the multiscale model, the single-tier model with about
  the same parameter count, and the multiscale model snapshotted at the single tier's wall-clock
  training budget (the fair comparison);
- log-spectral distance (dB) and onset F1 of renders of held-out notes against the FluidSynth
  reference render of the same notes, next to baselines measured in the same run: additive sine
  synthesis of the notes (a note-aware model-free floor) and the same sampled spectrograms
  through Griffin-Lim;
- the vocoders alone (`vocoders_on_reference_spectrograms`, the renders' ceiling): the neural
  vocoder and Griffin-Lim on each test clip's own spectrogram, scored against the reference
  (log-spectral distance, onset F1, multi-resolution STFT distance) with their real-time factor;
- the same on clean, band-limited input (`vocoders_on_band_limited_input`: pure tones and
  low-passed test clips), where a vocoder that mutes what FluidSynth never makes shows it;
- per-note level error of the same renders (`per_note_levels`, note_levels.py): each note's
  level in its pitch band over its span against FluidSynth's, in dB, and the notes more than
  DROPPED_DB too quiet ("dropped"), next to the vocoders alone on the reference's own
  spectrogram (the ceiling) and the sines (`--note-levels-only` skips NLL and the vocoders).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import soundfile
import torch

from host.progress import track
from plugins.melnet.audio import SAMPLE_RATE, log_mel, low_pass
from plugins.melnet.conditioning import INSTRUMENTS
from plugins.melnet.dataset import DEFAULT_DATA, Clip, fixed_crops, load_clips, make_batch
from plugins.melnet.metrics import log_spectral_distance, onset_f1, onset_times
from plugins.melnet.network import MelNet
from plugins.melnet.note_levels import DROPPED_DB, note_level_errors, summarise
from plugins.melnet.render import render, vocode
from plugins.melnet.tiers import take
from plugins.melnet.train import DEFAULT_CHECKPOINT, load_checkpoint
from plugins.melnet.vocoder import (
    DEFAULT_VOCODER,
    MelVocoder,
    load_vocoder,
    multi_resolution_stft_loss,
)

SINGLE_TIER = DEFAULT_CHECKPOINT.with_name("melnet-single-tier.pt")
TONES_HZ = (110.0, 220.0, 440.0, 880.0, 1760.0)
TONE_SECONDS = 2.0
LOW_PASS_HZ = 1500.0
BAND_LIMITED_CLIPS = 24  # test clips low-passed for band_limited_figures


@torch.no_grad()
def test_nll(
    model: MelNet, clips: list[Clip], frames: int = 128, per_clip: int = 2, label: str = "model"
) -> dict[str, object]:
    """NLL per bin over fixed crops (the first `per_clip` of each test clip), overall and per
    tier."""
    crops = [crop for clip in clips for crop in fixed_crops([clip], frames)[:per_clip]]
    tiers = model.config.tiers
    totals = np.zeros(tiers)
    tier_bins = np.zeros(tiers)
    for start in track(range(0, len(crops), 16), f"melnet: test NLL, {label}", unit="batch"):
        batch = make_batch(crops[start : start + 16], frames)
        losses = model.tier_nll(batch.spec, batch.bin_feats, batch.frame_feats, batch.instrument)
        totals += [float(loss) for loss in losses]
        if tiers == 1:
            tier_bins += batch.spec.numel()
        else:
            tier_bins += [take(batch.spec, tier).numel() for tier in range(1, tiers + 1)]
    return {
        "nll": round(float(totals.sum() / tier_bins.sum()), 4),
        "per_tier_nll": [round(float(t / b), 4) for t, b in zip(totals, tier_bins, strict=True)],
        "crops": len(crops),
    }


def sine_render(notes: np.ndarray, samples: int) -> np.ndarray:
    """Additive synthesis: each note a sine with a short attack/release at its velocity."""
    t = np.arange(samples) / SAMPLE_RATE
    audio = np.zeros(samples)
    for pitch, velocity, start, end in notes:
        hz = 440.0 * 2 ** ((pitch - 69) / 12)
        envelope = np.clip((t - start) / 0.01, 0, 1) * np.clip((end + 0.05 - t) / 0.05, 0, 1)
        audio += velocity / 127 * 0.2 * envelope * np.sin(2 * np.pi * hz * t)
    return audio.astype(np.float32)


def stft_distance(reference: np.ndarray, audio: np.ndarray) -> float:
    """Multi-resolution STFT distance (the vocoder's training loss; phase-blind)."""
    made, wanted = (torch.from_numpy(np.asarray(a, dtype=np.float32)) for a in (audio, reference))
    with torch.inference_mode():
        return float(multi_resolution_stft_loss(made, wanted))


def audio_scores(reference: np.ndarray, audio: np.ndarray) -> dict[str, float]:
    return {
        "lsd_db": log_spectral_distance(reference, audio),
        "onset_f1": onset_f1(onset_times(reference), onset_times(audio)),
        "mr_stft": stft_distance(reference, audio),
    }


def _vocoders(vocoder: MelVocoder | None) -> dict[str, MelVocoder | None]:
    """The trained vocoder (if any) and the Griffin-Lim baseline, by name."""
    return (
        {"neural": vocoder, "griffin_lim": None} if vocoder is not None else {"griffin_lim": None}
    )


def _vocode_each(
    vocoders: dict[str, MelVocoder | None], references: Iterable[np.ndarray], label: str = "clips"
) -> dict[str, dict[str, list[float]]]:
    """Each reference -> its log-mel spectrogram -> each vocoder: scores per vocoder, per figure
    (also the output's level against the reference's, in dB, and the seconds taken)."""
    scores: dict[str, dict[str, list[float]]] = {name: {} for name in vocoders}
    for index, reference in enumerate(track(references, f"melnet: vocoders on {label}")):
        spec = log_mel(reference)
        for name, chosen in vocoders.items():
            started = time.perf_counter()
            audio = vocode(spec, reference.size, chosen, 32, index)
            taken = time.perf_counter() - started
            level = 20 * np.log10(_rms(audio) / _rms(reference))
            figures = {**audio_scores(reference, audio), "level_error_db": level, "seconds": taken}
            for key, value in figures.items():
                scores[name].setdefault(key, []).append(float(value))
    return scores


@functools.cache
def reference_audio(data: Path, clip_name: str) -> np.ndarray:
    """A test clip's FluidSynth reference, read once: several figures score against it, and
    none of them writes into it."""
    audio, rate = soundfile.read(data / "clips" / f"{clip_name}.wav", dtype="float32")
    assert rate == SAMPLE_RATE
    return audio


def _rms(audio: np.ndarray) -> float:
    return max(float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))), 1e-9)


def _means(values: dict[str, list[float]], audio_seconds: float) -> dict[str, float]:
    means = {key: round(float(np.mean(v)), 4) for key, v in values.items() if key != "seconds"}
    return {**means, "real_time_factor": round(sum(values["seconds"]) / audio_seconds, 4)}


def vocoder_figures(vocoder: MelVocoder | None, clips: list[Clip], data: Path) -> dict[str, object]:
    """Each test clip's whole reference audio -> its log-mel spectrogram -> each vocoder, scored
    against the reference: how much of the gap to FluidSynth is the vocoder's alone."""
    references = [reference_audio(data, clip.name) for clip in clips]
    audio_seconds = sum(r.size for r in references) / SAMPLE_RATE
    scores = _vocode_each(_vocoders(vocoder), references, "test clips")
    figures: dict[str, object] = {"clips": len(clips), "audio_seconds": round(audio_seconds, 1)}
    figures.update({name: _means(values, audio_seconds) for name, values in scores.items()})
    if vocoder is not None:
        neural, baseline = (np.asarray(scores[n]["lsd_db"]) for n in ("neural", "griffin_lim"))
        figures["neural_lower_lsd_clips"] = int((neural < baseline).sum())
    return figures


def pure_tone(hz: float, seconds: float = TONE_SECONDS) -> np.ndarray:
    """A sine at a steady level after a 10 ms attack, with a 50 ms release at the end."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    envelope = np.clip(t / 0.01, 0, 1) * np.clip((seconds - t) / 0.05, 0, 1)
    return (0.3 * envelope * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def band_limited_figures(
    vocoder: MelVocoder | None, clips: list[Clip], data: Path
) -> dict[str, object]:
    """The vocoders on clean, band-limited input, which FluidSynth audio never is: pure tones,
    and test clips low-passed at LOW_PASS_HZ. A vocoder that learned "empty upper bands mean
    silence" mutes them; `level_error_db` (output level against the reference's) shows it."""
    inputs = {
        "pure_tones": [pure_tone(hz) for hz in TONES_HZ],
        "low_passed_clips": [
            low_pass(reference_audio(data, c.name), LOW_PASS_HZ).astype(np.float32) for c in clips
        ],
    }
    figures: dict[str, object] = {"tones_hz": list(TONES_HZ), "low_pass_hz": LOW_PASS_HZ}
    for kind, references in inputs.items():
        audio_seconds = sum(r.size for r in references) / SAMPLE_RATE
        scores = _vocode_each(_vocoders(vocoder), references, kind.replace("_", " "))
        per_vocoder: dict[str, dict[str, object]] = {
            name: {**_means(values, audio_seconds)} for name, values in scores.items()
        }
        if kind == "pure_tones":  # few inputs: each tone's level too, in TONES_HZ order
            for name, values in scores.items():
                each = [round(v, 2) for v in values["level_error_db"]]
                per_vocoder[name]["level_error_db_each"] = each
        figures[kind] = per_vocoder
    return figures


def audio_figures(
    models: dict[str, MelNet],
    clips: list[Clip],
    data: Path,
    seconds: float,
    temperature: float,
    vocoder: MelVocoder | None = None,
) -> tuple[dict[str, dict[str, float]], dict[str, object]]:
    """Renders of held-out clips against FluidSynth: (spectral and onset figures per system,
    per-note level errors per system)."""
    per_system: dict[str, dict[str, list[float]]] = {}
    note_errors: dict[str, dict[str, list[float]]] = {}  # system -> instrument -> errors
    instrument = INSTRUMENTS[0]

    def add_levels(
        system: str, reference: np.ndarray, audio: np.ndarray, notes: np.ndarray
    ) -> None:
        errors = note_level_errors(reference, audio, notes)
        each = note_errors.setdefault(system, {}).setdefault(instrument, [])
        each.extend(float(e) for e in errors)

    def add(
        system: str, reference: np.ndarray, audio: np.ndarray, notes: np.ndarray, taken: float
    ) -> None:
        scores = per_system.setdefault(system, {})
        for key, value in {**audio_scores(reference, audio), "seconds": taken}.items():
            scores.setdefault(key, []).append(value)
        add_levels(system, reference, audio, notes)

    for index, clip in enumerate(track(clips, "melnet: renders", unit="clip")):
        instrument = INSTRUMENTS[clip.instrument]
        reference = reference_audio(data, clip.name)
        samples = min(reference.size, round(seconds * SAMPLE_RATE))
        reference = reference[:samples]
        notes = clip.notes[clip.notes[:, 2] < samples / SAMPLE_RATE].copy()
        notes[:, 3] = np.minimum(notes[:, 3], samples / SAMPLE_RATE)
        for name, model in models.items():
            started = time.perf_counter()
            # raw level, as the README's figures were measured: LSD counts a level offset, and
            # the reference keeps FluidSynth's level (per-note errors remove the overall gain)
            spec, audio = render(
                model,
                notes,
                samples,
                clip.instrument,
                temperature,
                seed=index,
                vocoder=vocoder,
                normalize=False,
            )
            add(name, reference, audio, notes, time.perf_counter() - started)
            if vocoder is not None:  # the same sampled spectrogram through the baseline
                started = time.perf_counter()
                audio = vocode(spec, samples, None, 32, index)
                add(f"{name}_griffin_lim", reference, audio, notes, time.perf_counter() - started)
        started = time.perf_counter()
        add(
            "baseline_sine_synth",
            reference,
            sine_render(notes, samples),
            notes,
            time.perf_counter() - started,
        )
        # the ceiling for note levels: the vocoders alone, on the reference's own spectrogram
        for name, chosen in _vocoders(vocoder).items():
            audio = vocode(log_mel(reference), samples, chosen, 32, index)
            add_levels(f"baseline_{name}_of_reference", reference, audio, notes)
    figures = {
        system: {key: round(float(np.mean(values)), 4) for key, values in scores.items()}
        for system, scores in per_system.items()
    }
    levels: dict[str, object] = {
        name: {
            **summarise([e for each in by_instrument.values() for e in each]),
            "by_instrument": {i: summarise(e) for i, e in sorted(by_instrument.items())},
        }
        for name, by_instrument in note_errors.items()
    }
    return figures, levels


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dawhost eval melnet", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--single-tier", type=Path, default=SINGLE_TIER)
    parser.add_argument(
        "--snapshot", type=Path, default=DEFAULT_CHECKPOINT.with_name("melnet-snapshot.pt")
    )
    parser.add_argument("--vocoder", type=Path, default=DEFAULT_VOCODER)
    parser.add_argument("--clips", type=int, default=12, help="test clips to render")
    parser.add_argument(
        "--vocoder-clips", type=int, default=0, help="test clips to vocode (0: all)"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="render length per clip")
    parser.add_argument("--temperature", type=float, default=0.6)
    parser.add_argument("--crops-per-clip", type=int, default=2, help="128-frame NLL crops")
    parser.add_argument(
        "--render-single-tier",
        action="store_true",
        help="also render with the single-tier model (slow: 64 sequential bins per frame)",
    )
    parser.add_argument(
        "--candidate",
        type=Path,
        help="also render with this multiscale checkpoint (e.g. a retrained one), same clips "
        "and seeds: the comparison is in one run",
    )
    parser.add_argument(
        "--note-levels-only",
        action="store_true",
        help="only the renders and their per-note levels (no test NLL, no vocoder figures)",
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    clips = load_clips(args.data, "test")
    report: dict[str, object] = {
        "test_clips": len(clips),
        "test_pieces": len({c.piece for c in clips}),
    }
    nll: dict[str, object] = {}
    models: dict[str, MelNet] = {}
    checkpoints = [
        ("multiscale", args.checkpoint),
        ("single_tier", args.single_tier),
        ("multiscale_at_single_tier_budget", args.snapshot),
    ]
    if args.candidate is not None:
        checkpoints.append(("candidate", args.candidate))
    for name, path in checkpoints:
        if not path.is_file():
            nll[name] = f"missing checkpoint {path}"
            continue
        model, info = load_checkpoint(path)
        if name in ("multiscale", "candidate"):
            models[name] = model
        elif name == "single_tier" and args.render_single_tier:
            models[name] = model
        if args.note_levels_only:
            continue
        nll[name] = {
            **test_nll(model, clips, per_clip=args.crops_per_clip, label=name),
            "parameters": model.parameter_count(),
            "training": info,
        }
    if nll:
        report["test_nll_nats_per_bin"] = nll
    # renders: a fixed, instrument-balanced subset of the test clips (rendering costs CPU)
    by_instrument = [[c for c in clips if c.instrument == i] for i in range(len(INSTRUMENTS))]
    rounds = itertools.zip_longest(*by_instrument)  # one clip per instrument per round
    rendered = [c for group in rounds for c in group if c is not None][: args.clips]
    report["rendered_instruments"] = [INSTRUMENTS[c.instrument] for c in rendered]
    vocoder = load_vocoder(args.vocoder) if args.vocoder.is_file() else None
    report["vocoder"] = str(args.vocoder) if vocoder else f"missing checkpoint {args.vocoder}"
    if not args.note_levels_only:
        checked = clips[: args.vocoder_clips] if args.vocoder_clips else clips
        report["vocoders_on_reference_spectrograms"] = vocoder_figures(vocoder, checked, args.data)
        report["vocoders_on_band_limited_input"] = band_limited_figures(
            vocoder, clips[:BAND_LIMITED_CLIPS], args.data
        )
    report["renders_vs_fluidsynth"], report["per_note_levels"] = audio_figures(
        models, rendered, args.data, args.seconds, args.temperature, vocoder
    )
    report["settings"] = {
        "clips_rendered": len(rendered),
        "seconds_each": args.seconds,
        "temperature": args.temperature,
        "onset_tolerance_s": 0.05,
        "units": {
            "nll": "nats per bin (normalised log-mel)",
            "lsd_db": "dB, lower is better",
            "onset_f1": "0..1, higher is better",
            "per_note_levels": "dB against FluidSynth, overall gain of each clip removed; "
            f"dropped: more than {DROPPED_DB:g} dB too quiet",
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
