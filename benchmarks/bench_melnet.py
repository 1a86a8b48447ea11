"""Benchmark: real-time factor of a 4-bar render at 120 BPM (8 s of audio) with MelNet.

`dawhost bench melnet --json` (or `python -m benchmarks.bench_melnet`) prints one JSON object:
the render's wall time split by tier and vocoder (the neural vocoder, as the plugin renders),
its real-time factor (wall / audio seconds), and baselines timed in the same run - Griffin-Lim
on the same sampled spectrograms, FluidSynth rendering the same notes, and tier-1 sampling
without state caching (every bin re-runs the network over the prefix; timed on a sample of
bins at the mean prefix length and scaled to the tier's bin count, since running it in full
would take hours)."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from host import Note
from host.progress import track
from plugins.melnet.audio import SAMPLE_RATE, frames_for
from plugins.melnet.build_data import fluidsynth_render
from plugins.melnet.conditioning import INSTRUMENTS, note_features
from plugins.melnet.network import FirstTier
from plugins.melnet.render import notes_to_rows, sample_count, seconds_of, vocode
from plugins.melnet.sampling import sample_spectrogram
from plugins.melnet.tiers import take
from plugins.melnet.train import DEFAULT_CHECKPOINT, load_checkpoint
from plugins.melnet.vocoder import DEFAULT_VOCODER, MelVocoder, load_vocoder


def four_bar_phrase() -> list[Note]:
    """A melody over block chords, 4 bars of 4/4."""
    melody = [72, 74, 76, 77, 79, 77, 76, 74, 72, 71, 72, 74, 76, 74, 72, 67]
    notes = [Note(p, 96, i * 1.0, 0.9) for i, p in enumerate(melody)]
    for bar, root in enumerate((48, 53, 55, 48)):
        notes += [Note(root + step, 70, bar * 4.0, 3.8) for step in (0, 4, 7)]
    return notes


@torch.no_grad()
def uncached_seconds_per_bin(
    net: FirstTier, bin_feats: torch.Tensor, frame_feats: torch.Tensor, calls: int
) -> float:
    """Time of one uncached sampling step: a full forward pass over the prefix up to the bin,
    at the mean prefix length (half the tier)."""
    prefix = max(1, bin_feats.shape[0] // 2)
    x = torch.zeros(1, prefix, bin_feats.shape[1])
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        net(x, bin_feats[None, :prefix], frame_feats[None, :prefix], torch.tensor([0]))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dawhost bench melnet", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--vocoder", type=Path, default=DEFAULT_VOCODER)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    model, _ = load_checkpoint(args.checkpoint)
    vocoder = load_vocoder(args.vocoder) if args.vocoder.is_file() else None
    seconds = seconds_of(4, 4, 120.0)
    samples = sample_count(seconds)
    rows = notes_to_rows(four_bar_phrase(), 0.5, seconds)
    bin_feats, frame_feats = note_features(rows, frames_for(samples))

    # the plugin renders with the neural vocoder; Griffin-Lim is timed on the same spectrograms
    vocoders: dict[str, MelVocoder | None] = {"griffin_lim": None}
    if vocoder is not None:
        vocoders = {"neural": vocoder, **vocoders}
    used = next(iter(vocoders))
    renders, cpu, tiers = [], [], []
    vocoder_seconds: dict[str, list[float]] = {name: [] for name in vocoders}
    for repeat in track(range(args.repeats), "melnet bench: renders", unit="render"):
        marks: dict[int, float] = {}

        def mark(tier: int, fraction: float, marks: dict[int, float] = marks) -> None:
            marks[tier] = time.perf_counter()  # the last report of a tier is when it ended

        started, cpu_started = time.perf_counter(), time.process_time()
        spec = sample_spectrogram(
            model,
            bin_feats,
            frame_feats,
            INSTRUMENTS.index("piano"),
            0.6,
            seed=repeat,
            progress=mark,
        )
        sampled, cpu_sampled = time.perf_counter(), time.process_time()
        cpu_vocoder = {}
        for name, chosen in vocoders.items():
            begun, cpu_begun = time.perf_counter(), time.process_time()
            vocode(spec, samples, chosen, 32, repeat)
            vocoder_seconds[name].append(time.perf_counter() - begun)
            cpu_vocoder[name] = time.process_time() - cpu_begun
        renders.append(sampled - started + vocoder_seconds[used][-1])
        cpu.append(cpu_sampled - cpu_started + cpu_vocoder[used])
        ends = [marks[1], marks[2], marks[3]]
        tiers.append(
            [
                ends[0] - started,
                ends[1] - ends[0],
                ends[2] - ends[1],
                sampled - ends[2],
                vocoder_seconds[used][-1],
            ]
        )
    render_s = statistics.median(renders)
    stage = np.median(np.asarray(tiers), axis=0)

    fluid = []
    for _ in track(range(args.repeats), "melnet bench: FluidSynth baseline", unit="render"):
        started = time.perf_counter()
        fluidsynth_render(rows, "piano", seconds)
        fluid.append(time.perf_counter() - started)
    fluid_s = statistics.median(fluid)

    net = model.first_tier()
    tier1_bins = torch.from_numpy(np.ascontiguousarray(take(bin_feats, 1, -3, -2)))
    tier1_frames = torch.from_numpy(np.ascontiguousarray(take(frame_feats, 1, -2, None)))
    per_bin_uncached = uncached_seconds_per_bin(net, tier1_bins, tier1_frames, calls=10)
    tier1_bin_count = tier1_bins.shape[0] * tier1_bins.shape[1]
    tier1_uncached_s = per_bin_uncached * tier1_bin_count

    report = {
        "task": "render 4 bars at 120 BPM (8.0 s of 16 kHz audio), piano, 28 notes",
        "threads": args.threads,
        "parameters": model.parameter_count(),
        "render_seconds": round(render_s, 3),
        "real_time_factor": round(render_s / seconds, 3),
        "render_cpu_seconds": round(statistics.median(cpu), 3),
        "real_time_factor_cpu_time": round(statistics.median(cpu) / seconds, 3),
        "stages_seconds": {
            "tier1": round(stage[0], 3),
            "tier2": round(stage[1], 3),
            "tier3": round(stage[2], 3),
            "other_sampling": round(stage[3], 3),
            "vocoder": round(stage[4], 3),
        },
        "vocoder_used": used if vocoder is not None else "griffin_lim (no neural checkpoint)",
        "vocoder_parameters": vocoder.parameter_count() if vocoder is not None else 0,
        "vocoders_on_the_same_spectrograms": {
            name: {
                "seconds": round(statistics.median(times), 4),
                "real_time_factor": round(statistics.median(times) / seconds, 4),
            }
            for name, times in vocoder_seconds.items()
        },
        "baseline_fluidsynth_seconds": round(fluid_s, 3),
        "melnet_vs_fluidsynth_time_ratio": round(render_s / fluid_s, 2),
        "tier1_cached_seconds": round(stage[0], 3),
        "tier1_uncached_seconds_estimated": round(tier1_uncached_s, 1),
        "tier1_uncached_seconds_per_bin_measured": round(per_bin_uncached, 5),
        "tier1_bins": tier1_bin_count,
        "state_caching_speedup_tier1": round(tier1_uncached_s / stage[0], 1),
        "repeats": args.repeats,
        "audio_seconds": seconds,
        "sample_rate": SAMPLE_RATE,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
