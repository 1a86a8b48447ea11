"""Writes the files the README's quick start uses, into examples/ (committed; run again to
remake them): a primer phrase to continue, a sung melody, and a 4-bar multitrack loop (drums,
bass, piano, a choir line) as MIDI and rendered to WAV with FluidSynth and a Debian soundfont.

    python scripts/make_examples.py            (needs the fluidsynth program and a GM soundfont)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import mido
import numpy as np
import soundfile

PROJECT = Path(__file__).resolve().parents[1]
TEMPO = 120
TICKS = 480
RATE = 22_050  # enough for a listening check, small enough to commit (about 400 kB)
# The smallest General MIDI soundfont Debian ships first (timgm6mb-soundfont, ~6 MB).
SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
)

Note = tuple[int, int, float, float]  # pitch, velocity, start beat, duration in beats

# Two bars in C major, a tune over a walking bass: something the Music Transformer can continue.
PRIMER: list[Note] = [
    (72, 90, 0.0, 1.0), (74, 80, 1.0, 0.5), (76, 80, 1.5, 0.5), (77, 85, 2.0, 1.0),
    (76, 80, 3.0, 1.0), (74, 85, 4.0, 1.5), (72, 75, 5.5, 0.5), (71, 80, 6.0, 2.0),
    (48, 70, 0.0, 2.0), (52, 65, 2.0, 2.0), (55, 70, 4.0, 2.0), (43, 65, 6.0, 2.0),
]  # fmt: skip

# "Hot cross buns" twice: one note per syllable, for vocal-tts (and melnet) to sing or play.
MELODY: list[Note] = [
    (64, 100, 0.0, 1.0), (62, 100, 1.0, 1.0), (60, 100, 2.0, 2.0),
    (64, 100, 4.0, 1.0), (62, 100, 5.0, 1.0), (60, 100, 6.0, 2.0),
]  # fmt: skip

CHORDS = ((48, 52, 55, 60), (45, 48, 52, 57), (41, 45, 48, 53), (43, 47, 50, 55))  # C Am F G


def loop_tracks(bars: int = 4) -> dict[str, tuple[int, int, list[Note]]]:
    """name -> (channel, GM program, notes) for a 4-bar pop loop."""
    drums: list[Note] = []
    bass: list[Note] = []
    piano: list[Note] = []
    choir: list[Note] = []
    tune = (67, 64, 69, 67)  # one held choir note per bar, over each chord
    for bar in range(bars):
        at = bar * 4.0
        chord = CHORDS[bar % len(CHORDS)]
        for beat in range(4):
            drums.append((36 if beat % 2 == 0 else 38, 100, at + beat, 0.25))  # kick, snare
            drums += [(42, 70, at + beat, 0.25), (42, 55, at + beat + 0.5, 0.25)]  # hi-hat
            bass.append((chord[0] - 12 + (7 if beat == 2 else 0), 95, at + beat, 0.9))
        piano += [(p, 70, at + offset, 0.9) for p in chord[1:] for offset in (0.0, 1.5, 3.0)]
        choir.append((tune[bar % len(tune)] + 5, 80, at, 3.9))
    return {
        "drums": (9, 0, drums),
        "bass": (1, 33, bass),  # fingered electric bass
        "piano": (2, 0, piano),
        "choir": (3, 52, choir),  # choir "aahs": the loop's vocal-like line
    }


def _events(channel: int, notes: Iterable[Note]) -> list[tuple[int, int, mido.Message]]:
    events = []
    for pitch, velocity, start, duration in notes:
        on, off = round(start * TICKS), round((start + duration) * TICKS)
        events.append((on, 1, mido.Message("note_on", channel=channel, note=pitch,
                                           velocity=velocity)))  # fmt: skip
        events.append((off, 0, mido.Message("note_off", channel=channel, note=pitch)))
    return events


def _track(
    name: str, events: list[tuple[int, int, mido.Message]], head: list[mido.Message]
) -> mido.MidiTrack:
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name), *head])
    now = 0
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):  # offs before ons
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def write_midi(path: Path, tracks: dict[str, tuple[int, int, list[Note]]]) -> None:
    """A type-1 file: a tempo track, then one track per part with its program change."""
    song = mido.MidiFile(type=1, ticks_per_beat=TICKS)
    song.tracks.append(
        mido.MidiTrack(
            [
                mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(TEMPO)),
                mido.MetaMessage("time_signature", numerator=4, denominator=4),
                mido.MetaMessage("end_of_track", time=0),
            ]
        )
    )
    for name, (channel, program, notes) in tracks.items():
        head = [mido.Message("program_change", channel=channel, program=program)]
        song.tracks.append(_track(name, _events(channel, notes), head))
    song.save(path)


def render(midi: Path, wav: Path, soundfont: Path, seconds: float) -> None:
    """FluidSynth's file renderer, then trimmed to `seconds` (the loop repeats seamlessly) and
    peak-normalised to -1 dBFS, mono 16-bit."""
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "render.wav"
        subprocess.run(
            ["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(RATE), "-F", str(raw),
             str(soundfont), str(midi)],
            check=True,
        )  # fmt: skip
        audio, rate = soundfile.read(raw, always_2d=True)
    mono = audio.mean(axis=1)[: round(seconds * rate)]
    peak = float(np.max(np.abs(mono))) or 1.0
    soundfile.write(wav, (mono / peak * 10 ** (-1 / 20)).astype(np.float32), rate, "PCM_16")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=PROJECT / "examples")
    parser.add_argument("--soundfont", type=Path, help="a General MIDI .sf2/.sf3")
    args = parser.parse_args(argv)
    soundfont = args.soundfont or next((s for s in SOUNDFONTS if s.is_file()), None)
    if soundfont is None:
        print("no soundfont: apt-get install timgm6mb-soundfont (or pass --soundfont)", file=sys.stderr)  # fmt: skip
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    write_midi(args.out / "primer.mid", {"primer": (0, 0, PRIMER)})
    write_midi(args.out / "melody.mid", {"melody": (0, 0, MELODY)})
    bars = 4
    write_midi(args.out / "loop.mid", loop_tracks(bars))
    render(args.out / "loop.mid", args.out / "loop.wav", soundfont, bars * 4 * 60 / TEMPO)
    for name in ("primer.mid", "melody.mid", "loop.mid", "loop.wav"):
        print(f"{args.out / name}  {(args.out / name).stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
