"""Style accuracy of `style = auto` when the primer comes from audio, through the chain.

Held-out corpus pieces (the style classifier's own held-out set) are cut to their first
`--seconds`, written as MIDI, rendered with FluidSynth on a soundfont the transcriber never
heard in training (TimGM6mb, piano), and sent as users send a recording:
`music-transformer continue primer_from transcribe audio <wav> style auto bars 1`, through a
real Core (worker processes, the shipped checkpoints). The answer's `style` output is the
guess; a second pass transcribes with `quantize 1/16` at the piece's tempo (the transport
set to it, as when humming along with the DAW). Measured in the same run on the same
pieces: the classifier on the pieces' own notes (the same cut), on those notes with onsets
jittered by +-15 ms, chance, and always guessing the majority class.

    python -m plugins.music_transformer.style_from_audio --json --per-style 10 \
        --report plugins/music_transformer/reports/style_from_audio.json
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from host.reports import write_json_report

SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")  # held out of transcribe's training
RATE = 44_100
TEMPO = 120.0  # the transport's: transcribed beats and the primer's seconds agree at it


def render(notes: Sequence[Any], folder: Path, name: str) -> Path:
    """The notes (TimedNote, seconds) as a WAV: MIDI file at TEMPO, then FluidSynth."""
    from host.outputs import Note
    from host.smf import write_smf

    per_beat = TEMPO / 60.0
    midi = folder / f"{name}.mid"
    write_smf(
        midi,
        [Note(n.pitch, n.velocity, n.start * per_beat, n.duration * per_beat) for n in notes],
        TEMPO,
    )
    wav = folder / f"{name}.wav"
    subprocess.run(
        ["fluidsynth", "-ni", "-q", "-g", "0.6", "-F", str(wav), "-r", str(RATE)]
        + [str(SOUNDFONT), str(midi)],
        check=True,
        capture_output=True,
    )
    return wav


def cut(notes: Sequence[Any], seconds: float) -> list[Any]:
    """The notes starting in the first `seconds` (what a short recording holds)."""
    first = min(n.start for n in notes)
    return [n for n in notes if n.start - first < seconds]


async def guesses_from_audio(
    wavs: list[Path], work: Path, tempos: list[float], quantize: str
) -> tuple[list[str | None], list[int]]:
    """Each recording through the chain, with the transport at the piece's tempo (as a DAW
    playing along would be) and the transcription snapped to `quantize` at it: the style the
    answer reports (None on an error), and how many notes the transcriber heard."""
    from host.config import ServerConfig
    from host.core import Core
    from host.memory import MemoryFrontend
    from host.model import Model
    from host.requests import DataOutput, Error, OutputEvent, Step
    from plugins.music_transformer.plugin import MusicTransformerModel
    from plugins.transcribe.plugin import NoteTranscriber

    models: dict[str, Model[Any]] = {
        m.model_id: m for m in (MusicTransformerModel(), NoteTranscriber())
    }
    core = Core(ServerConfig(work_dir=work), models)
    core.transport.set_tempo(TEMPO)
    frontend = MemoryFrontend(core, client="eval")
    styles: list[str | None] = []
    heard: list[int] = []
    try:
        for index, (wav, tempo) in enumerate(zip(wavs, tempos, strict=True)):
            core.transport.set_tempo(min(300.0, max(20.0, tempo)))
            primer = Step("transcribe", None, {"quantize": quantize}, {"audio": str(wav)})
            events = await frontend.request(
                "music-transformer",
                "continue",
                timeout=600,
                options={"style": "auto", "bars": 1},
                inputs={"primer": primer},
                seed=index,
            )
            data = {
                e.output.name: e.output.data
                for e in events
                if isinstance(e, OutputEvent) and isinstance(e.output, DataOutput)
            }
            heard.append(len(data.get("transcribe.notes", {}).get("notes", [])))
            if isinstance(events[-1], Error):
                print(f"piece {index}: {events[-1].message}", file=sys.stderr)
            styles.append(data["style"]["style"] if "style" in data else None)
    finally:
        await core.shutdown()
    return styles, heard


def score(truth: list[str], guesses: Sequence[str | None]) -> dict[str, Any]:
    styles = sorted(set(truth))
    right = [t == g for t, g in zip(truth, guesses, strict=True)]
    recall = {
        s: round(float(np.mean([r for t, r in zip(truth, right, strict=True) if t == s])), 3)
        for s in styles
    }
    return {
        "accuracy": round(float(np.mean(right)), 4),
        "balanced_accuracy": round(float(np.mean(list(recall.values()))), 4),
        "per_style_recall": recall,
    }


def main(argv: Sequence[str] = ()) -> int:
    from plugins.music_transformer.checkpoint import DEFAULT_CHECKPOINT, load_weights
    from plugins.music_transformer.dataset import piece_notes
    from plugins.music_transformer.style_classifier import (
        CANDIDATES,
        classify,
        held_out_pieces,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--per-style", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0, help="recording length per piece")
    parser.add_argument("--parse-seconds", type=float, default=300.0)
    parser.add_argument("--report", type=Path)
    args = parser.parse_args(list(argv))
    import torch

    torch.set_num_threads(1)
    started = time.monotonic()
    pieces = held_out_pieces(args.per_style, args.parse_seconds)
    if not pieces:
        raise SystemExit("no held-out pieces parsed")
    truth = [p.style for p in pieces]
    clipped = [cut(piece_notes(p), args.seconds) for p in pieces]
    network, _ = load_weights(DEFAULT_CHECKPOINT)
    network.eval()
    from_notes = [next(iter(classify(network, notes))) for notes in clipped]
    # Why audio is harder: the same notes with onsets moved by up to +-15 ms (less than the
    # transcriber's own error), which is all a perfect transcription could still differ by.
    rng = np.random.default_rng(0)
    jittered = [
        [replace(n, start=max(0.0, n.start + rng.uniform(-0.015, 0.015))) for n in notes]
        for notes in clipped
    ]
    from_jittered = [next(iter(classify(network, notes))) for notes in jittered]
    with tempfile.TemporaryDirectory(prefix="style-from-audio-") as scratch:
        folder = Path(scratch)
        wavs = [render(notes, folder, f"piece-{i}") for i, notes in enumerate(clipped)]
        tempos = [float(p.bpm) for p in pieces]
        runs = {
            grid: asyncio.run(guesses_from_audio(wavs, folder / f"work-{i}", tempos, grid))
            for i, grid in enumerate(("off", "1/16"))
        }
    from_audio, heard = runs["off"]
    quantized, _ = runs["1/16"]
    majority = max(sorted(set(truth)), key=truth.count)
    report = {
        "pieces": len(pieces),
        "per_style_counts": {s: truth.count(s) for s in sorted(set(truth))},
        "recording_seconds": args.seconds,
        "soundfont": SOUNDFONT.name,
        "from_audio": score(truth, from_audio),
        "from_audio_quantized_1_16_at_the_pieces_tempo": score(truth, quantized),
        "from_the_pieces_notes": score(truth, from_notes),
        "from_the_pieces_notes_onsets_jittered_15ms": score(truth, from_jittered),
        "chance": round(1 / len(CANDIDATES), 4),
        "majority_class": majority,
        "majority_accuracy": round(truth.count(majority) / len(truth), 4),
        "failed_requests": sum(g is None for g in from_audio + quantized),
        "notes_heard_per_piece": round(float(np.mean(heard)), 1),
        "notes_in_piece_per_piece": round(float(np.mean([len(c) for c in clipped])), 1),
        "confusion_from_audio": {
            s: {
                g: sum(1 for t, x in zip(truth, from_audio, strict=True) if t == s and x == g)
                for g in CANDIDATES
                if any(t == s and x == g for t, x in zip(truth, from_audio, strict=True))
            }
            for s in sorted(set(truth))
        },
        "seconds": round(time.monotonic() - started, 1),
    }
    print(write_json_report(report, args.report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
