"""Benchmark: Music Transformer sampling speed and time to first event. Prints one JSON object.

    dawhost bench music-transformer --json     (or: python -m benchmarks.bench_music_transformer)

Measured in one run, with the shipped checkpoint on one thread:
- events/s sampling 1,024 events with the KV cache (context restarts included), against the
  baseline of recomputing the whole context for every event as the public PyTorch
  implementations do (timed over --recompute-events steps once the context is full, which is
  its steady state for the rest of the 1,024 events);
- events/s for 4 variations in one batch;
- time from a 512-event primer to the first sampled event (encode + prefill + one sample), and
  through the dawhost core (request -> first streamed note), against an idle-core baseline:
  the same request to a model that answers at once (benchmarks.echo.InstantEcho);
- the `candidates` option's cost (--candidates, e.g. 1,2,4,8; 1 is the same-run baseline):
  a chorale primer of --candidates-primer-events continued for 2 bars through the core, the
  time to the first note and to the whole continuation. With candidates > 1 the notes only
  come once the pick is made, so the first note comes when the last does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from benchmarks.echo import InstantEcho, core_for
from host import Note
from host.memory import MemoryFrontend
from host.progress import Stage
from host.reports import write_json_report
from host.requests import OutputEvent
from plugins.music_transformer.checkpoint import DEFAULT_CHECKPOINT, load_weights
from plugins.music_transformer.events import TimedNote, encode, style_token
from plugins.music_transformer.generate import Continuation, SamplingSettings, recompute_stream
from plugins.music_transformer.model import MusicTransformer, count_parameters
from plugins.music_transformer.plugin import MusicTransformerModel

TEMPO = 120.0


def primer_notes(events: int) -> list[Note]:
    """A chorale-like primer (4-note chords, one per beat, velocity steps) of about `events`
    tokens; its exact token count is reported."""
    notes: list[Note] = []
    beat = 0
    roots = (60, 65, 67, 62, 64, 69, 57, 59)
    while True:
        root = roots[beat % len(roots)]
        notes += [
            Note(p, 70 + beat % 3 * 8, float(beat), 1.0)
            for p in (root - 12, root, root + 4, root + 7)
        ]
        beat += 1
        if len(_tokens(notes)) >= events:
            return notes


def _tokens(notes: list[Note]) -> list[int]:
    seconds = 60.0 / TEMPO
    return encode(
        [TimedNote(n.pitch, n.velocity, n.start * seconds, n.duration * seconds) for n in notes]
    )


def events_per_second_cached(
    model: MusicTransformer, prefix: list[int], events: int, batch: int
) -> tuple[float, float]:
    """(events per wall-clock second, events per CPU second of this process)."""
    stream = Continuation(model, prefix, batch, SamplingSettings(top_p=0.95), seed=0).stream()
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(events):
        next(stream)
    done = events * batch
    return done / (time.perf_counter() - started), done / (time.process_time() - cpu)


def events_per_second_recompute(
    model: MusicTransformer, prefix: list[int], events: int
) -> tuple[float, float]:
    stream = recompute_stream(model, prefix, SamplingSettings(top_p=0.95), seed=0)
    next(stream)  # warm-up
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(events):
        next(stream)
    return events / (time.perf_counter() - started), events / (time.process_time() - cpu)


def first_event_ms(
    model: MusicTransformer, notes: list[Note], repeats: int
) -> tuple[list[float], list[float]]:
    """Primer notes -> tokens -> prefill -> first sampled event: (wall ms, CPU ms) per run."""
    wall, cpu = [], []
    for seed in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        prefix = [style_token("bach")] + _tokens(notes)
        next(Continuation(model, prefix, 1, SamplingSettings(top_p=0.95), seed=seed).stream())
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return wall, cpu


async def _first_note_through_core(model: object, notes: list[Note], repeats: int) -> list[float]:
    first, _ = await _through_core(model, notes, range(repeats), {})
    return first


async def _through_core(
    model: object, notes: list[Note], seeds: range, extra: dict[str, object]
) -> tuple[list[float], list[float]]:
    """(ms to the first streamed note, ms to Done) per request (one per seed) with `extra`
    options."""
    with tempfile.TemporaryDirectory() as work:
        core = core_for(Path(work), model)  # type: ignore[arg-type]
        core.transport.set_tempo(TEMPO)
        front = MemoryFrontend(core)
        model_id = model.model_id  # type: ignore[attr-defined]
        verb = "continue"
        primer = [x for n in notes for x in n.as_list()]
        options = {"bars": 1, **extra} if model_id == "music-transformer" else {}
        # one warm-up request loads the model
        await front.request(model_id, verb, timeout=120, inputs={"primer": primer}, options=options)
        times, done = [], []
        for seed in seeds:
            started = time.perf_counter()
            _, queue = front.submit(
                model_id, verb, inputs={"primer": primer}, options=options, seed=seed
            )
            while True:
                event = await asyncio.wait_for(queue.get(), 120)
                if isinstance(event, OutputEvent) and getattr(event.output, "notes", None):
                    times.append((time.perf_counter() - started) * 1000)
                    break
            while type(event).__name__ not in ("Done", "Error"):
                event = await asyncio.wait_for(queue.get(), 120)
            if type(event).__name__ == "Error":
                raise RuntimeError(f"{model_id} failed with {options}: {event}")
            done.append((time.perf_counter() - started) * 1000)
        await core.shutdown()
        return times, done


def candidates_cost(
    model: object, notes: list[Note], counts: list[int], repeats: int
) -> dict[str, dict[str, float]]:
    """Median ms to the first note and to the whole 2-bar continuation per `candidates`,
    with each one's ratio to candidates 1 (measured in the same run, interleaved so that
    every setting sees the same machine load)."""
    first: dict[int, list[float]] = {k: [] for k in counts}
    whole: dict[int, list[float]] = {k: [] for k in counts}
    for repeat in range(repeats):
        for k in counts:
            extra = {"bars": 2, "candidates": k}
            f, w = asyncio.run(_through_core(model, notes, range(repeat, repeat + 1), extra))
            first[k] += f
            whole[k] += w
    base = statistics.median(whole[counts[0]])
    return {
        str(k): {
            "first_note_ms_median": round(statistics.median(first[k]), 1),
            "whole_continuation_ms_median": round(statistics.median(whole[k]), 1),
            "whole_vs_first_setting": round(statistics.median(whole[k]) / base, 2),
        }
        for k in counts
    }


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(prog="dawhost bench music-transformer", description=__doc__)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--events", type=int, default=1024)
    parser.add_argument("--recompute-events", type=int, default=128)
    parser.add_argument("--primer-events", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--candidates", default="", help="e.g. 1,2,4,8: also time the candidates option"
    )
    parser.add_argument("--candidates-primer-events", type=int, default=128)
    parser.add_argument("--candidates-repeats", type=int, default=3)
    parser.add_argument("--report", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--json", action="store_true", help="(the output is always JSON)")
    args = parser.parse_args(list(argv))
    torch.set_num_threads(args.threads)
    model, info = load_weights(args.checkpoint)
    notes = primer_notes(args.primer_events)
    primer_tokens = _tokens(notes)
    prefix = [style_token("bach")] + primer_tokens
    window = model.config.max_len

    stage = Stage("music-transformer bench", 6, unit="measurement")
    with torch.inference_mode():
        cached, cached_cpu = events_per_second_cached(model, prefix, args.events, 1)
        stage.advance()
        # The recompute baseline: context = the last window-1 events, full at once here.
        recompute, recompute_cpu = events_per_second_recompute(model, prefix, args.recompute_events)
        stage.advance()
        batched, _ = events_per_second_cached(model, prefix, args.events // 4, 4)
        stage.advance()
        first, first_cpu = first_event_ms(model, notes, args.repeats)
        stage.advance()

    plugin_model = MusicTransformerModel()
    plugin_model.checkpoint = args.checkpoint
    through_core = asyncio.run(_first_note_through_core(plugin_model, notes, args.repeats))
    stage.advance()
    echo_core = asyncio.run(_first_note_through_core(InstantEcho(), notes, args.repeats))
    stage.advance()

    report = {
        "model": {
            "parameters": count_parameters(model),
            "window_events": window,
            "relative": model.config.relative,
            "checkpoint_step": info.get("step"),
        },
        "threads": args.threads,
        "sampling": {
            "events": args.events,
            "kv_cache_events_per_s": round(cached, 1),
            "recompute_events_per_s": round(recompute, 2),
            "recompute_events_timed": args.recompute_events,
            "speedup_kv_vs_recompute": round(cached / recompute, 1),
            # The machine is shared: per CPU-second of this process shows the rate without
            # the time other processes held the core.
            "kv_cache_events_per_cpu_s": round(cached_cpu, 1),
            "recompute_events_per_cpu_s": round(recompute_cpu, 2),
            "speedup_kv_vs_recompute_cpu": round(cached_cpu / recompute_cpu, 1),
            "goal_speedup": 20,
            "goal_events_per_s": 1000,
        },
        "variations_4_batch_events_per_s": round(batched, 1),
        "time_to_first_event_ms": {
            "primer_events": len(primer_tokens),
            "primer_events_used": min(len(primer_tokens), window - window // 4 - 1),
            "median": round(statistics.median(first), 2),
            "max": round(max(first), 2),
            "cpu_ms_median": round(statistics.median(first_cpu), 2),
            "goal_ms": 50,
        },
        "time_to_first_note_through_core_ms": {
            "median": round(statistics.median(through_core), 2),
            "echo_model_baseline_median": round(statistics.median(echo_core), 2),
            "ratio_vs_echo_baseline": round(
                statistics.median(through_core) / statistics.median(echo_core), 1
            ),
        },
    }
    counts = [int(k) for k in args.candidates.split(",") if k]
    if counts:
        short = primer_notes(args.candidates_primer_events)
        report["candidates_2_bars_through_core"] = {
            "primer_events": len(_tokens(short)),
            "repeats": args.candidates_repeats,
            "baseline": f"candidates {counts[0]}",
            "by_candidates": candidates_cost(plugin_model, short, counts, args.candidates_repeats),
        }
    report["load_average_1min"] = round(os.getloadavg()[0], 2)
    report["cpu_cores"] = os.cpu_count()
    print(write_json_report(report, args.report))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
