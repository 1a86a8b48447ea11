"""The evaluation's baseline: librosa's pyin f0 track cut into notes at librosa's onsets and
at pitch changes (the classic monophonic pipeline; it has no notion of chords)."""

from __future__ import annotations

import numpy as np
from scipy.signal import medfilt, resample_poly

from plugins.transcribe.decode import SecondsNote
from plugins.transcribe.features import SAMPLE_RATE

PYIN_RATE = 8_000  # pyin's f0 range (C2..C7, up to 2.1 kHz) fits; 4x fewer samples than 16 kHz
PYIN_HOP = 128  # 16 ms, the network's frame rate
HOP_16K = PYIN_HOP * SAMPLE_RATE // PYIN_RATE  # the same 16 ms at the input's 16 kHz
MIN_NOTE_SECONDS = 0.05


def pyin_f0(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(times, f0 in Hz with 0 where unvoiced) at SAMPLE_RATE, C2..C7."""
    import librosa

    low = resample_poly(audio, 1, SAMPLE_RATE // PYIN_RATE).astype(np.float32)
    f0, voiced, _ = librosa.pyin(
        low, fmin=65.0, fmax=2100.0, sr=PYIN_RATE, frame_length=1024, hop_length=PYIN_HOP
    )
    f0 = np.where(voiced & np.isfinite(f0), f0, 0.0)
    times = librosa.times_like(f0, sr=PYIN_RATE, hop_length=PYIN_HOP)
    return times, f0


def pyin_notes(audio: np.ndarray) -> tuple[list[SecondsNote], np.ndarray, np.ndarray]:
    """Notes from pyin + onset detection, and the raw f0 track (times, Hz) for pitch accuracy."""
    import librosa

    times, f0 = pyin_f0(audio)
    onsets = set(
        librosa.onset.onset_detect(y=audio, sr=SAMPLE_RATE, hop_length=HOP_16K, units="frames")
    )
    midi = np.where(f0 > 0, np.round(librosa.hz_to_midi(np.maximum(f0, 1e-3))), -1)
    # a median over 5 frames (80 ms): one-frame wobbles and octave blips are not new notes
    midi = medfilt(midi, 5).astype(int)
    notes: list[SecondsNote] = []
    start: int | None = None
    for i in range(len(midi) + 1):
        pitch = midi[i] if i < len(midi) else -1
        if start is not None and (pitch != midi[start] or i in onsets):
            if (i - start) * PYIN_HOP / PYIN_RATE >= MIN_NOTE_SECONDS:
                segment = audio[start * HOP_16K : i * HOP_16K]
                level_db = 10 * np.log10(float(np.mean(segment**2)) + 1e-12)
                velocity = int(np.clip(100 + 2 * (level_db + 20), 1, 127))  # -20 dBFS -> 100
                notes.append(
                    SecondsNote(
                        int(midi[start]),
                        velocity,
                        float(times[start]),
                        float(times[i - 1]) + PYIN_HOP / SAMPLE_RATE,
                    )
                )
            start = None
        if start is None and pitch >= 0:
            start = i
    return notes, times, f0
