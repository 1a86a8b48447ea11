"""Renders a `Song` stem by stem with FluidSynth (through pyfluidsynth: a soundfont is read once
per process rather than once per file, since the MuseScore sf3 takes seconds to decompress)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from plugins.separation.arrangement import Part, Song
from plugins.separation.stems import STEMS

TAIL_SECONDS = 1.0  # reverb and release after the last note, kept in the stem
FLUSH_SECONDS = 0.5  # rendered and discarded after all-sound-off, so nothing leaks between parts
VIBRATO_BLOCK = 0.01  # seconds between pitch-bend updates


class SoundfontRenderer:
    """Renders songs with one soundfont at `rate`, each song on a fresh FluidSynth instance.

    A synth carries state from one song to the next: the phase of its 64-frame blocks (a note
    starts on a block boundary, so the same song came out shifted by up to 1.5 ms), the reverb's
    tail and the position in its 16-bit dither table. A data build's test songs then depended
    on which songs the same worker had rendered before. FluidSynth shares a loaded soundfont's
    samples between the synths of a process, so while `_keeper` holds the soundfont a fresh
    synth loads it in about 0.04 s instead of seconds.
    """

    def __init__(self, soundfont: Path, rate: int) -> None:
        self.rate = rate
        self.soundfont = soundfont
        self._keeper, _ = self._new_synth()

    def _new_synth(self) -> tuple[Any, int]:
        import fluidsynth

        synth = fluidsynth.Synth(samplerate=float(self.rate), gain=0.6)
        synth.setting("synth.reverb.active", 1)
        sfid = synth.sfload(str(self.soundfont))
        if sfid < 0:
            synth.delete()
            raise RuntimeError(f"FluidSynth could not load {self.soundfont}")
        return synth, sfid

    def close(self) -> None:
        self._keeper.delete()

    def render(self, song: Song) -> dict[str, np.ndarray]:
        """Each stem as float32 (frames, 2), levelled then mixed at the song's gains; all stems
        the same length."""
        frames = int(math.ceil((song.seconds + TAIL_SECONDS) * self.rate))
        stems = {stem: np.zeros((frames, 2), np.float32) for stem in STEMS}
        synth, sfid = self._new_synth()
        try:
            for part in song.parts:
                stems[part.stem] += self._render_part(synth, sfid, part, song.tempo, frames)
        finally:
            synth.delete()
        for stem, gain_db in song.gains_db.items():
            stems[stem] = level(stems[stem], gain_db)
        return stems

    def _render_part(
        self, synth: Any, sfid: int, part: Part, tempo: float, frames: int
    ) -> np.ndarray:
        channel = 9 if part.drums else 0
        bank = 128 if part.drums else 0
        if synth.program_select(channel, sfid, bank, part.program) != 0:
            synth.program_select(channel, sfid, bank, 0)  # kit or program missing here
        synth.cc(channel, 91, part.reverb)
        synth.cc(channel, 93, 0)
        synth.pitch_bend(channel, 0)
        samples_per_beat = 60.0 / tempo * self.rate
        events: list[tuple[int, int, int, int]] = []  # (frame, on=1/off=0, pitch, velocity)
        for e in part.events:
            if not 0 <= e.pitch <= 127:
                continue
            start = int(round(e.start * samples_per_beat))
            stop = max(start + 1, int(round((e.start + e.duration) * samples_per_beat)))
            events.append((start, 1, e.pitch, e.velocity))
            events.append((stop, 0, e.pitch, 0))
        events.sort(key=lambda ev: (ev[0], ev[1]))  # note-offs first at equal times
        chunks: list[np.ndarray] = []
        now = 0
        for frame, on, pitch, velocity in events:
            frame = min(frame, frames)
            if frame > now:
                chunks.append(_advance(synth, part, channel, now, frame - now, self.rate))
                now = frame
            if on:
                synth.noteon(channel, pitch, velocity)
            else:
                synth.noteoff(channel, pitch)
        if frames > now:
            chunks.append(_advance(synth, part, channel, now, frames - now, self.rate))
        synth.cc(channel, 120, 0)  # all sound off
        synth.cc(channel, 121, 0)  # reset controllers
        synth.get_samples(int(FLUSH_SECONDS * self.rate))
        audio = np.concatenate(chunks) if chunks else np.zeros((0, 2), np.float32)
        return audio[:frames]


def level(audio: np.ndarray, gain_db: float) -> np.ndarray:
    """`audio` at -20 dBFS RMS plus `gain_db` (silence for -inf or a silent stem). Programs
    differ by 20 dB in loudness; levelling every stem first lets the song's gains, not the
    soundfont, decide the balance."""
    rms = float(np.sqrt(np.mean(audio**2)))
    gain = 0.0 if math.isinf(gain_db) or rms < 1e-6 else 0.1 / rms * 10 ** (gain_db / 20)
    return audio * np.float32(gain)


def _advance(synth: Any, part: Part, channel: int, now: int, count: int, rate: int) -> np.ndarray:
    if part.vibrato_cents <= 0:
        return _stereo(synth.get_samples(count))
    # Vibrato by pitch bend (default range +-2 semitones = 8192 units per 200 cents).
    block = max(1, int(VIBRATO_BLOCK * rate))
    out = []
    done = 0
    while done < count:
        n = min(block, count - done)
        phase = 2 * math.pi * part.vibrato_hz * (now + done) / rate
        synth.pitch_bend(channel, int(part.vibrato_cents / 200 * 8191 * math.sin(phase)))
        out.append(_stereo(synth.get_samples(n)))
        done += n
    return np.concatenate(out)


def _stereo(interleaved: np.ndarray) -> np.ndarray:
    return (np.asarray(interleaved, np.float32).reshape(-1, 2) / 32768.0).astype(np.float32)
