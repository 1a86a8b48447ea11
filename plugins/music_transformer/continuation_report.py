"""Continuations a musician would keep? `python -m plugins.music_transformer.continuation_report
--json` (10-20 min on one thread): the network's continuations of held-out primers against
the same-run baselines, in the corpus's styles and on primers unlike the training data.

Figures per sampler (means over primers; 1 = same pitch-class distribution as the real
continuation): pitch-class overlap with the real continuation, the primer-histogram baseline
on the same primers, overlap of each half of the continuation with the primer (its key drift;
the real continuation's own halves beside it), note density and well-formedness. Samplers:

- `shipped_previous_defaults`: the shipped checkpoint as the plugin sampled before (T 1.0,
  top-p 0.95, style token of the piece / "any" outside the corpus);
- `shipped_defaults`: the shipped checkpoint with the plugin's current Options defaults;
- `candidate` (with --candidate): another checkpoint with the current defaults;
- `shipped_defaults_rerank_K`: K continuations sampled in one batch with the defaults, the
  consensus pick kept (`continuations.consensus_pick`);
- `ngram`: the Witten-Bell 5-gram fitted on the training pieces, sampled the same way
  (note-state mask, T 1.0, top-p 0.95);
- the primer-histogram baseline (the primer's own pitch classes as the prediction).

Breakdowns: by style, by primer length (4, 8, 16 beats; shipped defaults), by sampling
temperature and top-p (shipped), and on outside primers by kind (outside.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from host.reports import write_json_report
from plugins.music_transformer.continuations import (
    Case,
    Generated,
    consensus_pick,
    make_case,
    piece_cases,
    prefix_of,
    run_batch,
    run_stream,
    score,
    summarise,
)
from plugins.music_transformer.dataset import piece_notes, piece_tokens
from plugins.music_transformer.events import NOTE_OFF, NOTE_ON, TIME_SHIFT, style_token
from plugins.music_transformer.generate import (
    Continuation,
    SamplingSettings,
    banned_bias,
    sample_next,
)

CONTINUATION_BEATS = 8.0
Sampler = Callable[[Case, int], Generated]


def plugin_defaults(seconds_per_beat: float = 0.6) -> SamplingSettings:
    """The sampling the plugin does when a request sets no option (its Options schema)."""
    from plugins.music_transformer.plugin import MusicTransformerOptions, sampling_settings

    return sampling_settings(MusicTransformerOptions.model_validate({}), seconds_per_beat)


Settings = SamplingSettings | Callable[[Case], SamplingSettings]


def network_sampler(model: object, settings: Settings, style: str | None) -> Sampler:
    """Sample with fixed settings, or settings per case (the defaults depend on the tempo)."""

    def run(case: Case, seed: int) -> Generated:
        prefix = prefix_of(case, style)
        chosen = settings(case) if callable(settings) else settings
        stream = Continuation(model, prefix, 1, chosen, seed).stream()  # type: ignore[arg-type]
        return run_stream((token for (token,) in stream), case, prefix)

    return run


def rerank_sampler(
    model: object, settings: Settings, candidates: int, style: str | None
) -> Sampler:
    """Sample `candidates` continuations in one batch and keep the consensus pick."""

    def run(case: Case, seed: int) -> Generated:
        prefix = prefix_of(case, style)
        chosen = settings(case) if callable(settings) else settings
        stream = Continuation(model, prefix, candidates, chosen, seed).stream()  # type: ignore[arg-type]
        made = run_batch(stream, case, prefix, candidates)
        pitches = [[n.pitch for n in g.notes] for g in made]
        primer = [n.pitch for n in case.primer]
        keep = consensus_pick(pitches, primer, [g.well_formed for g in made])
        return made[keep]

    return run


def defaults_for(case: Case) -> SamplingSettings:
    return plugin_defaults(case.seconds_per_beat)


def ngram_sampler(
    ngram: object, order: int, settings: SamplingSettings, style: str | None = None
) -> Sampler:
    """Sample the n-gram through the same sampler and note-state mask as the network."""

    def tokens(prefix: list[int], seed: int) -> Iterator[int]:
        generator = torch.Generator().manual_seed(seed)
        history = list(prefix)
        bias = banned_bias(len(ngram.distribution([])))  # type: ignore[attr-defined]
        bias[NOTE_OFF:TIME_SHIFT] = float("-inf")
        bias = bias[None].clone()
        while True:
            p = ngram.distribution(history[-(order - 1) :], order)  # type: ignore[attr-defined]
            logits = torch.from_numpy(np.log(np.maximum(p, 1e-30))).float()[None]
            token = int(sample_next(logits, settings, generator, bias)[0])
            if token < TIME_SHIFT:
                pitch, opened = token % 128, token < NOTE_OFF
                bias[0, NOTE_ON + pitch] = float("-inf") if opened else 0.0
                bias[0, NOTE_OFF + pitch] = 0.0 if opened else float("-inf")
            history.append(token)
            yield token

    def run(case: Case, seed: int) -> Generated:
        prefix = prefix_of(case, style)
        return run_stream(tokens(prefix, seed), case, prefix)

    return run


def evaluate(cases: Sequence[Case], sampler: Sampler, seeds: int, group: bool) -> dict:  # type: ignore[type-arg]
    rows: list[tuple[str, dict[str, float]]] = []
    for repeat in range(seeds):
        for index, case in enumerate(cases):
            rows.append((case.style, score(case, sampler(case, 1000 * repeat + index))))
    out: dict[str, object] = {"all": summarise([r for _, r in rows])}
    if group:
        out["by_style"] = {
            style: summarise([r for s, r in rows if s == style])
            for style in sorted({s for s, _ in rows})
        }
    return out


def outside_cases(pieces: Sequence[object], per_piece: int) -> list[Case]:
    """Up to `per_piece` primers per outside piece, every 8 beats from its start."""
    cases = []
    for piece in pieces:
        notes = piece_notes(piece)  # type: ignore[arg-type]
        for k in range(per_piece):
            case = make_case(
                piece.piece_id,  # type: ignore[attr-defined]
                piece.style,  # type: ignore[attr-defined]
                piece.bpm,  # type: ignore[attr-defined]
                notes,
                8.0,
                CONTINUATION_BEATS,
                offset_beats=16.0 * k,
            )
            if case is not None:
                cases.append(case)
    return cases


def main(argv: Sequence[str] = ()) -> int:
    from plugins.music_transformer.checkpoint import DEFAULT_CHECKPOINT, load_weights
    from plugins.music_transformer.corpus import DATA_DIR, load_pieces
    from plugins.music_transformer.evaluate import held_out_test
    from plugins.music_transformer.events import VOCAB_SIZE
    from plugins.music_transformer.ngram import NGramModel
    from plugins.music_transformer.outside import DATA as OUTSIDE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--outside", type=Path, default=OUTSIDE)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--candidate", type=Path, default=None)
    parser.add_argument("--pieces", type=int, default=96, help="held-out test primers")
    parser.add_argument("--seeds", type=int, default=1, help="continuations per primer")
    parser.add_argument("--outside-per-piece", type=int, default=2)
    parser.add_argument(
        "--rerank", type=int, default=8, help="candidates of the consensus-pick sampler"
    )
    parser.add_argument(
        "--primer-lengths", default="4,8,16", help="primer beats for the by-length breakdown"
    )
    parser.add_argument(
        "--grid",
        default="1.0:0.95,0.9:0.95,0.8:0.95,0.7:0.9,1.0:0.95:0.5,1.0:0.95:1.0",
        help="temperature:top_p[:key_strength] settings to compare (other options default)",
    )
    parser.add_argument(
        "--part", choices=("all", "corpus", "outside"), default="all", help="which primers"
    )
    parser.add_argument("--report", type=Path, help="also write the JSON here")
    parser.add_argument("--json", action="store_true", help="(the output is always JSON)")
    args = parser.parse_args(list(argv))
    torch.set_num_threads(1)
    started = time.monotonic()

    shipped, shipped_info = load_weights(args.checkpoint)
    pieces = load_pieces(args.data)
    test = held_out_test(pieces)
    cases = piece_cases(test, 8.0, CONTINUATION_BEATS)[: args.pieces]
    previous = SamplingSettings(temperature=1.0, top_p=0.95, well_formed=True)
    defaults = defaults_for
    train = [p for p in pieces if p.split == "train"]
    ngram = NGramModel(5, VOCAB_SIZE).fit([style_token(p.style)] + piece_tokens(p) for p in train)
    samplers: dict[str, Sampler] = {
        "shipped_previous_defaults": network_sampler(shipped, previous, None),
        "shipped_defaults": network_sampler(shipped, defaults, None),
        f"shipped_defaults_rerank_{args.rerank}": rerank_sampler(
            shipped, defaults, args.rerank, None
        ),
        "ngram": ngram_sampler(ngram, 5, previous),
    }
    candidate_info = None
    if args.candidate is not None:
        candidate, candidate_info = load_weights(args.candidate)
        samplers["candidate"] = network_sampler(candidate, defaults, None)
    report: dict[str, object] = {
        "what": "8-beat continuations of held-out primers vs the real next 8 beats",
        "defaults": plugin_defaults().__dict__,
        "previous_defaults": previous.__dict__,
        "arguments": {k: str(v) for k, v in vars(args).items()},
    }
    if args.part != "outside":
        report["in_corpus"] = {
            name: evaluate(cases, sampler, args.seeds, group=True)
            for name, sampler in samplers.items()
        }
        report["by_primer_beats"] = {
            str(beats): evaluate(
                piece_cases(test, beats, CONTINUATION_BEATS)[: args.pieces],
                samplers["shipped_defaults"],
                1,
                group=False,
            )["all"]
            for beats in [float(b) for b in args.primer_lengths.split(",") if b]
        }
        grid = {}
        for spec in args.grid.split(","):
            values = [float(x) for x in spec.split(":")]
            key = values[2] if len(values) > 2 else None

            def varied(
                case: Case, t: float = values[0], p: float = values[1], k: float | None = key
            ) -> SamplingSettings:
                base = defaults_for(case)
                return replace(
                    base, temperature=t, top_p=p, key_strength=base.key_strength if k is None else k
                )

            grid[spec] = evaluate(cases, network_sampler(shipped, varied, None), 1, False)["all"]
        report["by_sampling_temperature_top_p"] = grid
    if args.part != "corpus" and (args.outside / "pieces.pkl").is_file():
        # Outside pieces have no corpus style (their `style` is their kind): every sampler
        # gets the style token "any", as a user's own song would.
        outside = outside_cases(load_pieces(args.outside), args.outside_per_piece)
        samplers_any = {
            "shipped_previous_defaults": network_sampler(shipped, previous, "any"),
            "shipped_defaults": network_sampler(shipped, defaults, "any"),
            f"shipped_defaults_rerank_{args.rerank}": rerank_sampler(
                shipped, defaults, args.rerank, "any"
            ),
            "ngram": ngram_sampler(ngram, 5, previous, "any"),
        }
        if args.candidate is not None:
            samplers_any["candidate"] = network_sampler(candidate, defaults, "any")
        report["outside"] = {
            name: evaluate(outside, sampler, args.seeds, group=True)
            for name, sampler in samplers_any.items()
        }
    report["checkpoints"] = {"shipped": shipped_info, "candidate": candidate_info}
    report["seconds"] = round(time.monotonic() - started, 1)
    print(write_json_report(report, args.report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
