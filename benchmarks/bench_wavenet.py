"""Benchmark: WaveNet sampling speed on a 4-bar vocal line at 120 BPM (8 s of audio).

`dawhost bench wavenet --json` (or `python -m benchmarks.bench_wavenet`) prints one JSON object,
every figure measured in this run on the same vocal-tts mels (lyrics and melody of
bench_vocal_tts, first four bars):
- naive: every sample recomputes the receptive field (timed on --naive-samples, scaled);
- cached: Fast WaveNet queues, one row (timed on --cached-samples, scaled);
- folded: cached, the whole line cut into F segments sampled as one batch (whole line, timed);
- the vocal-tts line end to end with vocoder=wavenet and with its default vocoder.
Real-time factor = wall seconds / audio seconds (below 1: faster than real time). The machine is
shared: compare the ratios, measured seconds apart.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from benchmarks.bench_vocal_tts import LYRICS, TEMPO, eight_bar_melody
from host.progress import Stage
from plugins.wavenet.checkpoint import DEFAULT_CHECKPOINT, load
from plugins.wavenet.generate import cached_generate, folded_generate, naive_generate

BARS = 4
SAMPLE_RATE = 16_000
FIRST_FOUR_BARS = LYRICS.split(",")[0] + "," + LYRICS.split(",")[1]


def _wall(function: object) -> float:
    started = time.perf_counter()
    function()  # type: ignore[operator]
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="WaveNet sampling real-time factors (JSON)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--folds", default="8,16,32,64")
    parser.add_argument("--naive-samples", type=int, default=200)
    parser.add_argument("--cached-samples", type=int, default=16_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="(the report is always JSON)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from plugins.vocal_tts.checkpoint import DEFAULT_CHECKPOINT as VOCAL_TTS
    from plugins.vocal_tts.checkpoint import load as load_bundle
    from plugins.vocal_tts.espeak import speak
    from plugins.vocal_tts.phonemes import syllables
    from plugins.vocal_tts.synthesis import Request, network_inputs, prepare, render
    from plugins.wavenet.vocoder import WaveNetVocoder

    model, _ = load(args.checkpoint)
    bundle = load_bundle(VOCAL_TTS)
    count = len(syllables(speak(FIRST_FOUR_BARS).phones, FIRST_FOUR_BARS))
    request = Request(FIRST_FOUR_BARS, "sing", eight_bar_melody(count), TEMPO, 4.0, bars=BARS)
    prepared = prepare(request)
    inputs = network_inputs(bundle, prepared)
    with torch.inference_mode():
        mel = bundle.acoustic(
            inputs["phonemes"], inputs["durations"], inputs["f0"], inputs["speaker"]
        )[0]
        raw = mel * torch.from_numpy(bundle.mel_std) + torch.from_numpy(bundle.mel_mean)
        condition = model.frame_condition(raw[None], "vocal")
    samples = prepared.samples
    seconds = samples / SAMPLE_RATE
    report: dict[str, object] = {
        "line": {"bars": BARS, "tempo": TEMPO, "seconds": seconds, "samples": samples},
        "threads": args.threads,
        "receptive_field_samples": model.config.receptive_field,
        "layers": len(model.config.dilations),
    }
    generator = torch.Generator().manual_seed(0)
    folds_list = [int(f) for f in args.folds.split(",")]
    wall = Stage("wavenet bench", 4 + len(folds_list), unit="measurement").counting(_wall)
    cached_generate(model, condition, 160, 500, torch.rand(4, 500))  # warm-up: first calls
    n = args.naive_samples
    naive = wall(lambda: naive_generate(model, condition, 160, n, torch.rand(1, n)))
    report["naive"] = {"timed_samples": n, "real_time_factor": round(naive / n * SAMPLE_RATE, 2)}
    c = args.cached_samples
    cached = wall(lambda: cached_generate(model, condition, 160, c, torch.rand(1, c)))
    cached_rtf = cached / c * SAMPLE_RATE
    report["cached"] = {
        "timed_samples": c,
        "real_time_factor": round(cached_rtf, 3),
        "speedup_vs_naive": round(naive / n / (cached / c), 1),
    }
    folded: dict[str, object] = {}
    for folds in folds_list:
        taken = wall(
            lambda f=folds: folded_generate(model, condition, 160, samples, f, generator=generator)
        )
        folded[str(folds)] = {
            "real_time_factor": round(taken / seconds, 3),
            "speedup_vs_cached": round(cached_rtf / (taken / seconds), 1),
        }
    report["cached_folded"] = folded

    wavenet = WaveNetVocoder(model, "vocal")
    torch.set_num_threads(args.threads)
    line_wavenet = wall(lambda: render(bundle, prepared, "wavenet", seed=0, wavenet=wavenet))
    line_default = wall(lambda: render(bundle, prepared, "neural", seed=0))
    report["vocal_tts_line"] = {
        "wavenet_folds": wavenet.folds,
        "wavenet_real_time_factor": round(line_wavenet / seconds, 3),
        "harmonic_plus_noise_real_time_factor": round(line_default / seconds, 4),
        "goal_rtf_at_most_1": line_wavenet / seconds <= 1.0,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
