"""Continuing held-out primers and scoring the result against what the piece really does next.

Shared by the evaluation (`evaluate.py`) and the continuation report (`continuation_report.py`):
a `Case` is a primer (the first beats of a piece) and the piece's real next beats; `continue_case`
samples a continuation of it; `score` compares the two (pitch classes, density, drift of the key
over the continuation, well-formedness, velocity).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from plugins.music_transformer.dataset import piece_notes
from plugins.music_transformer.events import (
    EventDecoder,
    TimedNote,
    encode,
    style_token,
    velocity_after,
)

STUCK_SECONDS = 4.0  # a note held longer than this in a continuation counts as not closed
MAX_EVENTS = 4000  # a runaway stream that never advances time still ends


@dataclass(frozen=True)
class Case:
    piece_id: str
    style: str
    seconds_per_beat: float
    primer: list[TimedNote]
    real: list[TimedNote]  # the piece's notes starting in the continuation's span
    target: float  # seconds to continue for, from the primer's last note end
    primer_end: float
    real_span: float  # seconds the real continuation covers (from the primer's nominal end)


def make_case(
    piece_id: str,
    style: str,
    bpm: float,
    notes: Sequence[TimedNote],
    primer_beats: float,
    continuation_beats: float,
    offset_beats: float = 0.0,
) -> Case | None:
    """The primer is every note ending by `offset + primer_beats` (starting at `offset`);
    None when the primer or the real continuation has fewer than 4 notes."""
    seconds_per_beat = 60.0 / bpm
    begin = offset_beats * seconds_per_beat
    cut = begin + primer_beats * seconds_per_beat
    end = cut + continuation_beats * seconds_per_beat
    primer = [
        TimedNote(n.pitch, n.velocity, n.start - begin, n.duration)
        for n in notes
        if n.start >= begin - 1e-6 and n.start + n.duration <= cut + 1e-6
    ]
    real = [
        TimedNote(n.pitch, n.velocity, n.start - cut, n.duration)
        for n in notes
        if cut <= n.start < end
    ]
    if len(primer) < 4 or len(real) < 4:
        return None
    primer_end = max(n.start + n.duration for n in primer)
    return Case(
        piece_id,
        style,
        seconds_per_beat,
        primer,
        real,
        target=end - begin - primer_end,
        primer_end=primer_end,
        real_span=end - cut,
    )


def piece_cases(
    pieces: Sequence[object], primer_beats: float, continuation_beats: float
) -> list[Case]:
    """One case per piece (its opening), in order, skipping pieces too short or too sparse."""
    cases = []
    for piece in pieces:
        case = make_case(
            piece.piece_id,  # type: ignore[attr-defined]
            piece.style,  # type: ignore[attr-defined]
            piece.bpm,  # type: ignore[attr-defined]
            piece_notes(piece),  # type: ignore[arg-type]
            primer_beats,
            continuation_beats,
        )
        if case is not None:
            cases.append(case)
    return cases


@dataclass
class Generated:
    notes: list[TimedNote]  # times from the primer's end
    impossible: int = 0
    note_ons: int = 0
    stuck: int = 0  # notes still sounding after STUCK_SECONDS when the continuation ended
    events: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def well_formed(self) -> bool:
        return self.impossible == 0 and self.stuck == 0


def run_stream(tokens: Iterator[int], case: Case, prefix: Sequence[int]) -> Generated:
    """Decode a token stream until the continuation's span is covered."""
    decoder = EventDecoder(velocity=velocity_after(prefix))
    notes: list[TimedNote] = []
    events = 0
    for events, token in enumerate(tokens, 1):
        notes.extend(decoder.feed(token))
        if decoder.time >= case.target or events > MAX_EVENTS:
            break
    stuck = sum(1 for start, _ in decoder.sounding.values() if decoder.time - start > STUCK_SECONDS)
    notes.extend(decoder.flush())
    return Generated(
        [n for n in notes if n.start < case.target],
        impossible=decoder.stats.impossible,
        note_ons=decoder.stats.note_ons,
        stuck=stuck,
        events=events,
    )


def run_batch(
    stream: Iterator[list[int]], case: Case, prefix: Sequence[int], count: int
) -> list[Generated]:
    """Decode `count` streams sampled together (one token per stream per step)."""
    decoders = [EventDecoder(velocity=velocity_after(prefix)) for _ in range(count)]
    notes: list[list[TimedNote]] = [[] for _ in range(count)]
    done = [False] * count
    events = 0
    for events, tokens in enumerate(stream, 1):
        for row, token in enumerate(tokens):
            if not done[row]:
                notes[row].extend(decoders[row].feed(token))
                done[row] = decoders[row].time >= case.target or events > MAX_EVENTS
        if all(done):
            break
    made = []
    for row, decoder in enumerate(decoders):
        stuck = sum(
            1 for start, _ in decoder.sounding.values() if decoder.time - start > STUCK_SECONDS
        )
        notes[row].extend(decoder.flush())
        made.append(
            Generated(
                [n for n in notes[row] if n.start < case.target],
                impossible=decoder.stats.impossible,
                note_ons=decoder.stats.note_ons,
                stuck=stuck,
                events=events,
            )
        )
    return made


def consensus_pick(
    candidates: Sequence[Sequence[int]],
    primer: Sequence[int],
    usable: Sequence[bool] | None = None,
) -> int:
    """Which of several sampled continuations (their pitches) to keep: the one whose pitch
    classes are closest to the others' and to the primer's (minimum Bayes risk under total
    variation distance; the primer weighs as half the candidates). One sampled continuation
    pays the noise of drawing its notes; the consensus pick keeps what the candidates share.
    `usable` (e.g. well-formed) restricts the choice when any candidate is usable."""
    histograms = [pitch_histogram(c) for c in candidates]
    primer_histogram = pitch_histogram(primer)
    rows = [i for i in range(len(candidates)) if usable is None or usable[i]]
    rows = rows or list(range(len(candidates)))

    def risk(i: int) -> float:
        others = sum(1.0 - histogram_overlap(histograms[i], h) for h in histograms)
        own = 1.0 - histogram_overlap(histograms[i], primer_histogram)
        return others + len(candidates) / 2 * own

    return min(rows, key=risk)


def prefix_of(case: Case, style: str | None = None) -> list[int]:
    return [style_token(style or case.style)] + encode(case.primer)


Sampler = Callable[[Case, int], Generated]


def pitch_histogram(pitches: Sequence[int]) -> np.ndarray:
    """Share of each pitch class (all zeros for no notes)."""
    histogram = np.zeros(12)
    for pitch in pitches:
        histogram[pitch % 12] += 1
    return histogram / max(1.0, histogram.sum())


def pitch_class_histogram(notes: Sequence[TimedNote]) -> np.ndarray:
    return pitch_histogram([n.pitch for n in notes])


def histogram_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """1 - total variation distance: 1.0 for identical pitch-class distributions."""
    return float(1.0 - 0.5 * np.abs(a - b).sum())


def primer_sample_overlap(case: Case, draws: int = 8) -> float:
    """The overlap a continuation gets that draws as many notes as the real one has, each
    pitch class with its share of the primer: what the primer-histogram baseline scores once
    it has to play notes (a sample) instead of predicting a distribution. Seeded by the case."""
    share = pitch_class_histogram(case.primer)
    real = pitch_class_histogram(case.real)
    seed = int.from_bytes(case.piece_id.encode()[-8:].rjust(8, b"\0"), "little")
    rng = np.random.default_rng(seed)
    overlaps = []
    for _ in range(draws):
        counts = np.bincount(rng.choice(12, size=len(case.real), p=share), minlength=12)
        overlaps.append(histogram_overlap(counts / counts.sum(), real))
    return float(np.mean(overlaps))


def _halves(notes: Sequence[TimedNote], span: float) -> tuple[list[TimedNote], list[TimedNote]]:
    return [n for n in notes if n.start < span / 2], [n for n in notes if n.start >= span / 2]


def score(case: Case, generated: Generated) -> dict[str, float]:
    """Figures for one continuation. Drift: how far each half of the continuation's pitch
    classes is from the primer's (the real continuation's drift is the reference)."""
    made = generated.notes
    real_hist = pitch_class_histogram(case.real)
    primer_hist = pitch_class_histogram(case.primer)
    span = case.target
    first, second = _halves(made, span)
    real_first, real_second = _halves(case.real, case.real_span)
    beats = max(1e-9, span / case.seconds_per_beat)
    real_density = len(case.real) / (case.real_span / case.seconds_per_beat)
    figures = {
        "pitch_class_overlap": histogram_overlap(pitch_class_histogram(made), real_hist),
        "primer_baseline_overlap": histogram_overlap(primer_hist, real_hist),
        "primer_sample_baseline_overlap": primer_sample_overlap(case),
        "overlap_with_primer": histogram_overlap(pitch_class_histogram(made), primer_hist),
        "first_half_overlap_with_primer": histogram_overlap(
            pitch_class_histogram(first), primer_hist
        ),
        "second_half_overlap_with_primer": histogram_overlap(
            pitch_class_histogram(second), primer_hist
        ),
        "real_first_half_overlap_with_primer": histogram_overlap(
            pitch_class_histogram(real_first), primer_hist
        ),
        "real_second_half_overlap_with_primer": histogram_overlap(
            pitch_class_histogram(real_second), primer_hist
        ),
        "density_ratio": (len(made) / beats) / max(1e-9, real_density),
        "well_formed": float(generated.well_formed),
        "note_ons": float(generated.note_ons),
        "closed": float(generated.note_ons - generated.stuck),
    }
    figures.update(generated.extra)
    return figures


def summarise(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """Means over cases (density as its median and mean abs log ratio, as before)."""
    if not rows:
        return {"cases": 0}
    out: dict[str, float] = {"cases": len(rows)}
    for key in rows[0]:
        if key in ("density_ratio", "note_ons", "closed"):
            continue
        out[key] = round(float(np.mean([r[key] for r in rows])), 4)
    ratios = [max(r["density_ratio"], 1e-3) for r in rows]
    out["density_ratio_median"] = round(float(np.median(ratios)), 3)
    out["density_abs_log_ratio_mean"] = round(float(np.mean(np.abs(np.log(ratios)))), 3)
    ons = sum(r["note_ons"] for r in rows)
    out["note_on_closed_fraction"] = round(sum(r["closed"] for r in rows) / max(1.0, ons), 4)
    return out
