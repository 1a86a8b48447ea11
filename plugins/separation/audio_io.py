"""Checking and reading the audio a client sends: any libsndfile format (WAV, FLAC, AIFF, OGG,
MP3), any rate, mono or stereo, read block by block so long files stay out of memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from host import BadInput

MAX_SECONDS = 20 * 60.0  # longer than any song; beyond this a path is probably a mistake
MIN_RATE = 8_000
MAX_RATE = 192_000
SILENCE_PEAK = 1e-5  # -100 dBFS: nothing to separate below this
# Float files may go above 0 dBFS, but beyond +80 dBFS the spectra overflow float32.
MAX_PEAK = 1e4
MIN_SECONDS = 0.1  # the network needs a few STFT frames at its 11.025 kHz rate
SCAN_BLOCK = 1 << 16


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    rate: int
    frames: int
    channels: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


def check_audio(path: Path, field: str = "audio", max_seconds: float = MAX_SECONDS) -> AudioInfo:
    """Everything that makes a file unusable, as a `BadInput` a musician can act on."""
    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise BadInput(
            field, f"is not a readable audio file ({path.name}: {exc}); send WAV, FLAC, AIFF or OGG"
        ) from None
    if info.frames <= 0:
        raise BadInput(field, f"is empty ({path.name} has no samples)")
    if not MIN_RATE <= info.samplerate <= MAX_RATE:
        raise BadInput(
            field, f"has a sample rate of {info.samplerate} Hz; use {MIN_RATE} to {MAX_RATE} Hz"
        )
    if info.channels not in (1, 2):
        raise BadInput(field, f"has {info.channels} channels; send mono or stereo")
    seconds = info.frames / info.samplerate
    if seconds > max_seconds:
        raise BadInput(
            field,
            f"is {seconds:.0f} s long; the limit is {max_seconds:.0f} s "
            "(split it into shorter files)",
        )
    if seconds < MIN_SECONDS:
        raise BadInput(
            field, f"is too short ({seconds * 1000:.0f} ms); send at least {MIN_SECONDS:g} s"
        )
    result = AudioInfo(path, int(info.samplerate), int(info.frames), int(info.channels))
    _check_samples(result, field)
    return result


def _check_samples(info: AudioInfo, field: str) -> None:
    """Every block is finite and within MAX_PEAK, and the file is not silent (the whole file
    is read: one NaN late in a song would turn every stem into NaN)."""
    peak = 0.0
    try:
        with soundfile.SoundFile(str(info.path)) as f:
            for index, block in enumerate(f.blocks(SCAN_BLOCK, dtype="float32", always_2d=True)):
                if not np.all(np.isfinite(block)):
                    at = index * SCAN_BLOCK / info.rate
                    raise BadInput(field, f"contains NaN or infinite samples (after {at:.1f} s)")
                peak = max(peak, float(np.max(np.abs(block), initial=0.0)))
    except soundfile.LibsndfileError as exc:
        raise BadInput(field, f"could not be decoded ({info.path.name}: {exc})") from None
    if peak > MAX_PEAK:
        raise BadInput(
            field,
            f"peaks at {20 * np.log10(peak):+.0f} dBFS; normalise it (at most "
            f"{20 * np.log10(MAX_PEAK):+.0f} dBFS)",
        )
    if peak <= SILENCE_PEAK:
        raise BadInput(
            field,
            f"is silent (peak below {20 * np.log10(SILENCE_PEAK):.0f} dBFS); "
            "there is nothing to separate",
        )


def read_span(f: soundfile.SoundFile, start: int, stop: int) -> np.ndarray:
    """Frames [start, stop) as float32 (frames, channels), zero-padded outside the file."""
    frames = f.frames
    out = np.zeros((stop - start, f.channels), np.float32)
    lo, hi = max(0, start), min(frames, stop)
    if hi > lo:
        f.seek(lo)
        out[lo - start : hi - start] = f.read(hi - lo, dtype="float32", always_2d=True)
    return out
