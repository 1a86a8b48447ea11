"""How much of a piano ends up in the bass stem (and of the bass in "other"): issue #26's
two-instrument check, from outside the data builder's songs.

Each clip is a piano (General MIDI 0, the acoustic grand) playing a style's chords over that
style's bass line and nothing else, both parts rendered alone with one soundfont and summed.
The separator's masks are computed from the mix and then applied to each part alone: without
the Wiener filter a stem is the masks times the mix, so the piano's share of the bass stem is
exactly the masks applied to the piano. Reported per method: the share of each part's energy
that lands in each stem, and the clip-median SDR of bass and other.

Next to the checkpoints, in the same run: the ideal ratio mask at the network's own internal
rate (mono, 11.025 kHz), what a perfect network of this design could do; its leakage is the
floor set by the overlap of the two parts' spectra.

    python -m plugins.separation.leakage --json --report plugins/separation/reports/leakage.json \\
        [--checkpoint older.pt ...] [--clips 4]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from host.progress import track
from host.reports import write_json_report
from plugins.separation.baselines import ideal_internal_masks
from plugins.separation.build_data import TEST_RATE
from plugins.separation.checkpoint import DEFAULT_CHECKPOINT
from plugins.separation.metrics import sdr
from plugins.separation.separate import Separator, filter_with_masks
from plugins.separation.stems import HELD_OUT_SOUNDFONT, STEMS, soundfont_path
from plugins.separation.styles import HELD_OUT_STYLE, STYLES, arrange_style
from plugins.separation.synth import SoundfontRenderer

PIANO = 0  # General MIDI acoustic grand
SOUNDFONTS = (HELD_OUT_SOUNDFONT, "FluidR3_GM.sf2")  # unheard in training, and a training one
SECONDS = 10.0
PARTS = ("bass", "other")  # the stems the bass and the piano belong in

# masks for a (frames, channels) mix at `rate`, as (stems, ...) summing to one over stems
MaskMethod = Callable[[np.ndarray, int, dict[str, np.ndarray]], torch.Tensor]


@dataclass(frozen=True)
class Clip:
    name: str
    style: str
    soundfont: str
    parts: dict[str, np.ndarray]  # "bass", "other" -> (frames, 2) at TEST_RATE

    @property
    def mix(self) -> np.ndarray:
        return self.parts["bass"] + self.parts["other"]


@dataclass
class Tally:
    """One method's results over the clips."""

    shares: dict[str, list[np.ndarray]] = field(default_factory=lambda: {p: [] for p in PARTS})
    sdrs: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PARTS})

    def add(self, clip: Clip, masks: torch.Tensor) -> None:
        for part in PARTS:
            alone = clip.parts[part]
            stems = filter_with_masks(masks, alone, TEST_RATE)  # (stems, frames, ch)
            energy = (stems.astype(np.float64) ** 2).sum(axis=(1, 2))
            self.shares[part].append(
                energy / max(float((alone.astype(np.float64) ** 2).sum()), 1e-20)
            )
        estimates = filter_with_masks(masks, clip.mix, TEST_RATE)
        for part in PARTS:
            score = sdr(clip.parts[part], estimates[STEMS.index(part)])
            if score is not None:
                self.sdrs[part].append(score)

    def summary(self) -> dict[str, object]:
        shares = {
            part: dict(zip(STEMS, np.mean(rows, axis=0).round(4).tolist(), strict=True))
            for part, rows in self.shares.items()
        }
        return {
            # The figures the issue quotes: how much of the piano the bass stem gets, and back.
            "piano_into_bass": shares["other"]["bass"],
            "bass_into_other": shares["bass"]["other"],
            "piano_kept_in_other": shares["other"]["other"],
            "bass_kept_in_bass": shares["bass"]["bass"],
            "share_of_piano_energy_per_stem": shares["other"],
            "share_of_bass_energy_per_stem": shares["bass"],
            "median_sdr_db": {p: round(float(np.median(v)), 2) for p, v in self.sdrs.items() if v},
        }


def clips(
    per_style_and_font: int,
    styles: Sequence[str] = tuple(STYLES),
    soundfonts: Sequence[str] = SOUNDFONTS,
    seconds: float = SECONDS,
    seed: int = 26,
) -> list[Clip]:
    """Piano over bass, `per_style_and_font` clips of each style with each soundfont."""
    out: list[Clip] = []
    for font in soundfonts:
        renderer = SoundfontRenderer(soundfont_path(font), TEST_RATE)
        try:
            for style in styles:
                for index in range(per_style_and_font):
                    rng = np.random.default_rng([seed, len(out)])
                    song, _bar = arrange_style(f"{style}-{index}", style, rng, seconds)
                    bass = next(p for p in song.parts if p.stem == "bass")
                    keys = next(p for p in song.parts if p.stem == "other")
                    keys.program = PIANO
                    song.parts = [bass, keys]
                    song.gains_db = {"bass": 0.0, "other": 0.0}
                    stems = renderer.render(song)
                    name = f"{style}-{index}__{Path(font).stem}"
                    out.append(Clip(name, style, font, {p: stems[p] for p in PARTS}))
        finally:
            renderer.close()
    return out


def model_masks(separator: Separator) -> MaskMethod:
    def masks(mix: np.ndarray, rate: int, _parts: dict[str, np.ndarray]) -> torch.Tensor:
        return separator.masks(mix, rate)

    return masks


def ideal_masks(mix: np.ndarray, rate: int, parts: dict[str, np.ndarray]) -> torch.Tensor:
    silent = np.zeros_like(mix)
    stems = np.stack([parts.get(stem, silent) for stem in STEMS])
    return ideal_internal_masks(stems, rate)


def evaluate(methods: dict[str, MaskMethod], clip_list: list[Clip]) -> dict[str, object]:
    groups = {
        "all": lambda c: True,
        "held_out_style": lambda c: c.style == HELD_OUT_STYLE,
        "held_out_soundfont": lambda c: c.soundfont == HELD_OUT_SOUNDFONT,
    }
    tallies = {(m, g): Tally() for m in methods for g in groups}
    for clip in track(clip_list, "leakage", unit="clip"):
        for method, masks_of in methods.items():
            with torch.inference_mode():
                masks = masks_of(clip.mix, TEST_RATE, clip.parts)
            for group, member in groups.items():
                if member(clip):
                    tallies[(method, group)].add(clip, masks)
    counts = {group: sum(map(member, clip_list)) for group, member in groups.items()}
    return {
        group: {"clips": counts[group]}
        | {method: tallies[(method, group)].summary() for method in methods}
        for group in groups
        if counts[group]
    }


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m plugins.separation.leakage", description=__doc__
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        default=[],
        help="more checkpoints to score beside the shipped one",
    )
    parser.add_argument("--clips", type=int, default=2, help="clips per style and soundfont")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--report", type=Path, help="also write the JSON report here")
    args = parser.parse_args(list(argv))
    torch.set_num_threads(args.threads)
    started = time.monotonic()
    methods: dict[str, MaskMethod] = {
        "shipped": model_masks(Separator.from_checkpoint(DEFAULT_CHECKPOINT))
    }
    for path in args.checkpoint:
        methods[path.name] = model_masks(Separator.from_checkpoint(path))
    methods["ideal_internal_mask"] = ideal_masks
    clip_list = clips(args.clips, tuple(STYLES), SOUNDFONTS, SECONDS)
    report = {
        "what": "piano (GM 0) over a style's bass line, rendered apart and mixed; each part's "
        "energy share per output stem (masks from the mix applied to the part alone)",
        "clips": len(clip_list),
        "seconds_per_clip": SECONDS,
        "soundfonts": list(SOUNDFONTS),
        "styles": list(STYLES),
        "results": evaluate(methods, clip_list),
        "seconds": round(time.monotonic() - started, 1),
    }
    text = write_json_report(report, args.report)
    if args.json:
        print(text)
    else:
        for group, rows in report["results"].items():  # type: ignore[attr-defined]
            for method, row in rows.items():
                if method == "clips":
                    continue
                print(
                    f"{group:20s} {method:24s} piano->bass {row['piano_into_bass']:.3f}"
                    f"  bass->other {row['bass_into_other']:.3f}  SDR {row['median_sdr_db']}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
