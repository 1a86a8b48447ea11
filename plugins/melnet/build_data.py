"""Build paired (notes, log-mel) training clips by rendering note material with FluidSynth.

Usage: python -m plugins.melnet.build_data [--out DIR] [--bach N] [--ryans N] [--generated N]
Each clip is one window of one piece played by one instrument class at a random tempo; test
clips also keep their reference WAV for the evaluation.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import mido
import numpy as np
import soundfile

from host.progress import track
from plugins.melnet.audio import SAMPLE_RATE, log_mel
from plugins.melnet.conditioning import GM_PROGRAMS, INSTRUMENTS
from plugins.melnet.corpus import Piece, generated_piece, music21_pieces
from plugins.melnet.dataset import DEFAULT_DATA

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
MAX_CLIP_SECONDS = 10.0
# Playable ranges per class; voices are moved by octaves into them.
RANGES = {"piano": (21, 108), "guitar": (40, 84), "strings": (36, 96), "flute": (60, 96)}


def write_midi(notes: np.ndarray, program: int, path: Path) -> None:
    """Write rows (pitch, velocity, start_s, end_s) as a one-track MIDI file at 120 BPM."""
    ticks_per_second = 960  # 480 ticks per beat at 120 BPM
    events: list[tuple[int, int, mido.Message]] = []
    for pitch, velocity, start, end in notes:
        on = round(start * ticks_per_second)
        off = max(on + 1, round(end * ticks_per_second))
        events.append((on, 1, mido.Message("note_on", note=int(pitch), velocity=int(velocity))))
        events.append((off, 0, mido.Message("note_off", note=int(pitch), velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))  # note-offs before note-ons at the same tick
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=500_000, time=0))
    track.append(mido.Message("program_change", program=program, time=0))
    now = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    midi.save(path)


def fluidsynth_render(
    notes: np.ndarray, instrument: str, seconds: float, soundfont: Path = SOUNDFONT
) -> np.ndarray:
    """Render notes with FluidSynth (no reverb or chorus) and return exactly `seconds` of mono
    audio at SAMPLE_RATE; the training data's soundfont unless told otherwise."""
    if shutil.which("fluidsynth") is None:
        raise RuntimeError("fluidsynth is not installed (Debian package: fluidsynth)")
    with tempfile.TemporaryDirectory(prefix="melnet-") as folder:
        midi_path, wav_path = Path(folder) / "in.mid", Path(folder) / "out.wav"
        write_midi(notes, GM_PROGRAMS[instrument], midi_path)
        subprocess.run(
            [
                "fluidsynth",
                "-ni",
                "-R",
                "0",
                "-C",
                "0",
                "-g",
                "0.8",
                "-F",
                str(wav_path),
                "-r",
                str(SAMPLE_RATE),
                str(soundfont),
                str(midi_path),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        audio, rate = soundfile.read(wav_path, dtype="float32", always_2d=True)
    if rate != SAMPLE_RATE:
        raise RuntimeError(f"fluidsynth wrote {rate} Hz, expected {SAMPLE_RATE}")
    samples = round(seconds * SAMPLE_RATE)
    mono = audio.mean(axis=1)[:samples]
    return np.pad(mono, (0, samples - mono.size))


def _fit_range(voice: list[tuple[int, int, float, float]], low: int, high: int) -> list:
    mean = sum(n[0] for n in voice) / len(voice)
    shift = 0
    while mean + shift < low + 6:
        shift += 12
    while mean + shift > high - 6:
        shift -= 12
    return [(min(high, max(low, p + shift)), v, s, d) for p, v, s, d in voice]


def clip_notes(piece: Piece, instrument: str, rng: random.Random) -> tuple[np.ndarray, float]:
    """Choose voices, tempo and a window of `piece`; return rows in seconds and the length."""
    voices = list(piece.voices)
    if instrument == "flute":
        voices = voices[:1]
    elif instrument == "guitar":
        voices = voices[-3:]
    low, high = RANGES[instrument]
    voices = [_fit_range(v, low, high) for v in voices]
    tempo = rng.uniform(70.0, 150.0)
    seconds_per_beat = 60.0 / tempo
    piece_beats = max(s + d for v in voices for _, _, s, d in v)
    window_beats = min(piece_beats, MAX_CLIP_SECONDS / seconds_per_beat)
    window_beats = max(4.0, float(np.floor(window_beats)))
    start = 0.0
    if piece_beats > window_beats + 4:
        start = 4.0 * rng.randrange(int((piece_beats - window_beats) // 4) + 1)
    rows = []
    for voice in voices:
        for pitch, velocity, beat, duration in voice:
            if start <= beat < start + window_beats:
                onset = (beat - start) * seconds_per_beat
                end = min(window_beats, beat - start + duration) * seconds_per_beat
                rows.append((pitch, velocity, onset, end))
    return np.asarray(sorted(rows, key=lambda r: r[2]), np.float32).reshape(-1, 4), (
        window_beats * seconds_per_beat
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--bach", type=int, default=220)
    parser.add_argument("--ryans", type=int, default=180)
    parser.add_argument("--generated", type=int, default=160)
    parser.add_argument("--per-piece", type=int, default=2, help="instrument renders per piece")
    args = parser.parse_args(argv)
    clips = args.out / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    pieces = [generated_piece(i) for i in range(args.generated)]
    pieces_iter = music21_pieces({"bach": args.bach, "ryansMammoth": args.ryans})
    index: list[dict[str, object]] = []
    count = 0
    for piece in track([*pieces, *pieces_iter], "melnet data: pieces", unit="piece"):
        for instrument in rng.sample(INSTRUMENTS, args.per_piece):
            notes, seconds = clip_notes(piece, instrument, rng)
            if len(notes) < 3:
                continue
            audio = fluidsynth_render(notes, instrument, seconds)
            name = f"{count:05d}"
            np.savez(
                clips / f"{name}.npz",
                mel=log_mel(audio).astype(np.float16),
                notes=notes,
                instrument=INSTRUMENTS.index(instrument),
            )
            if piece.split == "test":
                soundfile.write(clips / f"{name}.wav", audio, SAMPLE_RATE, subtype="PCM_16")
            index.append(
                {
                    "clip": name,
                    "piece": piece.piece_id,
                    "split": piece.split,
                    "instrument": instrument,
                    "seconds": round(seconds, 3),
                }
            )
            count += 1
            if count % 50 == 0:
                print(f"{count} clips ({piece.piece_id})", flush=True)
                (args.out / "index.json").write_text(json.dumps(index, indent=0))
    (args.out / "index.json").write_text(json.dumps(index, indent=0))
    print(f"done: {count} clips", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
