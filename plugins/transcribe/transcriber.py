"""Audio files to notes in seconds with the trained network: read any libsndfile format at any
rate, mix to mono, resample to 16 kHz, run the network over long chunks (with context on both
sides, so chunk edges change nothing) and decode."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from host import BadInput
from plugins.transcribe.decode import SecondsNote, decode_notes
from plugins.transcribe.features import HOP, SAMPLE_RATE

MAX_SECONDS = 20 * 60.0
MIN_RATE, MAX_RATE = 8_000, 192_000
CHUNK_FRAMES = 1875  # 30 s of frames per network call: bounded memory on long files
CONTEXT_FRAMES = 64  # ~1 s each side, more than the network's receptive field (~40 frames)
# Silence put before the audio: a note that starts on the file's first sample otherwise has
# no "before" (the STFT's reflection padding makes frame 0 look like a held note).
LEAD_FRAMES = 16


def read_mono(path: Path, field: str = "audio") -> np.ndarray:
    """The file as float32 mono at SAMPLE_RATE; problems as a `BadInput` naming the file."""
    import soundfile
    from scipy.signal import resample_poly

    path = Path(path)
    if not path.is_file():
        raise BadInput(field, f"file {str(path)!r} does not exist")
    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise BadInput(
            field, f"is not a readable audio file ({path.name}: {exc}); send WAV, FLAC or OGG"
        ) from None
    if info.frames <= 0:
        raise BadInput(field, f"is empty ({path.name} has no samples)")
    if not MIN_RATE <= info.samplerate <= MAX_RATE:
        raise BadInput(
            field, f"has a sample rate of {info.samplerate} Hz; use {MIN_RATE} to {MAX_RATE} Hz"
        )
    if info.frames / info.samplerate > MAX_SECONDS:
        raise BadInput(
            field,
            f"is {info.frames / info.samplerate:.0f} s long; the limit is {MAX_SECONDS:.0f} s",
        )
    try:
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except soundfile.LibsndfileError as exc:
        raise BadInput(field, f"could not be decoded ({path.name}: {exc})") from None
    if not np.all(np.isfinite(audio)):
        raise BadInput(field, "contains NaN or infinite samples")
    mono = audio.mean(axis=1)
    if rate != SAMPLE_RATE:
        g = math.gcd(int(rate), SAMPLE_RATE)
        mono = resample_poly(mono, SAMPLE_RATE // g, int(rate) // g).astype(np.float32)
    return np.asarray(mono, np.float32)


class Transcriber:
    """A loaded network plus the decoding thresholds tuned on validation."""

    def __init__(self, net: object, onset_threshold: float, frame_threshold: float) -> None:
        from plugins.transcribe.features import Frontend

        self.net = net
        self.frontend = Frontend()
        self.onset_threshold = onset_threshold
        self.frame_threshold = frame_threshold

    @classmethod
    def from_checkpoint(cls, path: Path) -> Transcriber:
        from plugins.transcribe.checkpoint import load

        net, payload = load(path)
        return cls(net, float(payload["onset_threshold"]), float(payload["frame_threshold"]))

    def posteriors(
        self, audio: np.ndarray, progress: Callable[[float], None] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Onset, frame and velocity (frames, 88) in 0..1 for mono audio at SAMPLE_RATE."""
        import torch

        audio = np.concatenate([np.zeros(LEAD_FRAMES * HOP, np.float32), audio])
        frames = len(audio) // HOP + 1
        outputs = [np.zeros((frames, 88), np.float32) for _ in range(3)]
        chunks = max(1, math.ceil(frames / CHUNK_FRAMES))
        with torch.inference_mode():
            for index in range(chunks):
                first = index * CHUNK_FRAMES
                last = min(frames, first + CHUNK_FRAMES)
                lo = max(0, first - CONTEXT_FRAMES)
                hi = min(frames, last + CONTEXT_FRAMES)
                piece = audio[lo * HOP : (hi - 1) * HOP + 1]
                features = self.frontend(torch.from_numpy(np.ascontiguousarray(piece))[None])
                onset, frame, velocity = self.net(features)  # type: ignore[operator]
                results = (torch.sigmoid(onset[0]), torch.sigmoid(frame[0]), velocity[0])
                for out, result in zip(outputs, results, strict=True):
                    out[first:last] = result.numpy()[first - lo : last - lo]
                if progress is not None:
                    progress((index + 1) / chunks)
        return outputs[0][LEAD_FRAMES:], outputs[1][LEAD_FRAMES:], outputs[2][LEAD_FRAMES:]

    def transcribe(
        self,
        audio: np.ndarray,
        onset_threshold: float | None = None,
        frame_threshold: float | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> list[SecondsNote]:
        onset, frame, velocity = self.posteriors(audio, progress)
        return decode_notes(
            onset,
            frame,
            velocity,
            onset_threshold or self.onset_threshold,
            frame_threshold or self.frame_threshold,
        )


def keep_monophonic(notes: list[SecondsNote]) -> list[SecondsNote]:
    """One note at a time (a voice, a hummed line): a note that starts while another sounds
    cuts it short; of notes starting together the loudest stays."""
    out: list[SecondsNote] = []
    for note in sorted(notes, key=lambda n: (n.onset, -n.velocity)):
        if out and abs(out[-1].onset - note.onset) < 1e-6:
            continue  # a quieter note at the same instant (an octave or harmonic error)
        if out and out[-1].offset > note.onset:
            prev = out.pop()
            out.append(SecondsNote(prev.pitch, prev.velocity, prev.onset, note.onset))
        out.append(note)
    return out
