"""Renders a `Song` stem by stem with FluidSynth (through pyfluidsynth, so a soundfont is loaded
once per process rather than once per file: the MuseScore sf3 takes seconds to decompress)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from plugins.separation.arrangement import Part, Song
from plugins.separation.stems import STEMS

TAIL_SECONDS = 1.0  # reverb and release after the last note, kept in the stem
FLUSH_SECONDS = 0.5  # rendered and discarded after all-sound-off, so nothing leaks between parts
VIBRATO_BLOCK = 0.01  # seconds between pitch-bend updates


class SoundfontRenderer:
    """One FluidSynth instance with one soundfont loaded, rendering at `rate`."""

    def __init__(self, soundfont: Path, rate: int) -> None:
        import fluidsynth

        self.rate = rate
        self.synth = fluidsynth.Synth(samplerate=float(rate), gain=0.6)
        self.synth.setting("synth.reverb.active", 1)
        self.sfid = self.synth.sfload(str(soundfont))
        if self.sfid < 0:
            raise RuntimeError(f"FluidSynth could not load {soundfont}")
        self.soundfont = soundfont

    def close(self) -> None:
        self.synth.delete()

    def render(self, song: Song) -> dict[str, np.ndarray]:
        """Each stem as float32 (frames, 2), levelled then mixed at the song's gains; all stems
        the same length."""
        frames = int(math.ceil((song.seconds + TAIL_SECONDS) * self.rate))
        stems = {stem: np.zeros((frames, 2), np.float32) for stem in STEMS}
        for part in song.parts:
            stems[part.stem] += self._render_part(part, song.tempo, frames)
        for stem, gain_db in song.gains_db.items():
            # Programs differ by 20 dB in loudness; level every stem to -20 dBFS RMS first so
            # the song's gains, not the soundfont, decide the balance.
            rms = float(np.sqrt(np.mean(stems[stem] ** 2)))
            gain = 0.0 if math.isinf(gain_db) or rms < 1e-6 else 0.1 / rms * 10 ** (gain_db / 20)
            stems[stem] *= gain
        return stems

    def _render_part(self, part: Part, tempo: float, frames: int) -> np.ndarray:
        synth = self.synth
        channel = 9 if part.drums else 0
        bank = 128 if part.drums else 0
        if synth.program_select(channel, self.sfid, bank, part.program) != 0:
            synth.program_select(channel, self.sfid, bank, 0)  # kit or program missing here
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
                chunks.append(self._advance(part, channel, now, frame - now))
                now = frame
            if on:
                synth.noteon(channel, pitch, velocity)
            else:
                synth.noteoff(channel, pitch)
        if frames > now:
            chunks.append(self._advance(part, channel, now, frames - now))
        synth.cc(channel, 120, 0)  # all sound off
        synth.cc(channel, 121, 0)  # reset controllers
        synth.get_samples(int(FLUSH_SECONDS * self.rate))
        audio = np.concatenate(chunks) if chunks else np.zeros((0, 2), np.float32)
        return audio[:frames]

    def _advance(self, part: Part, channel: int, now: int, count: int) -> np.ndarray:
        if part.vibrato_cents <= 0:
            return _stereo(self.synth.get_samples(count))
        # Vibrato by pitch bend (default range +-2 semitones = 8192 units per 200 cents).
        block = max(1, int(VIBRATO_BLOCK * self.rate))
        out = []
        done = 0
        while done < count:
            n = min(block, count - done)
            phase = 2 * math.pi * part.vibrato_hz * (now + done) / self.rate
            self.synth.pitch_bend(channel, int(part.vibrato_cents / 200 * 8191 * math.sin(phase)))
            out.append(_stereo(self.synth.get_samples(n)))
            done += n
        return np.concatenate(out)


def _stereo(interleaved: np.ndarray) -> np.ndarray:
    return (np.asarray(interleaved, np.float32).reshape(-1, 2) / 32768.0).astype(np.float32)
