"""Posteriorgrams to notes, Onsets-and-Frames style: a note starts at a local peak of the onset
head above `onset_threshold` and lasts while the frame head stays above `frame_threshold`;
a new onset of the same key ends the sounding note."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plugins.transcribe.features import FRAMES_PER_SECOND, LOWEST_PITCH


@dataclass(frozen=True)
class SecondsNote:
    pitch: int
    velocity: int
    onset: float  # seconds
    offset: float  # seconds


def decode_notes(
    onset: np.ndarray,
    frame: np.ndarray,
    velocity: np.ndarray,
    onset_threshold: float = 0.5,
    frame_threshold: float = 0.5,
    min_frames: int = 2,
) -> list[SecondsNote]:
    """Probabilities (frames, 88) -> notes sorted by onset then pitch."""
    frames = onset.shape[0]
    previous = np.vstack([np.zeros((1, onset.shape[1])), onset[:-1]])
    following = np.vstack([onset[1:], np.zeros((1, onset.shape[1]))])
    peaks = (onset >= onset_threshold) & (onset >= previous) & (onset > following)
    notes: list[SecondsNote] = []
    for key in range(onset.shape[1]):
        starts = np.flatnonzero(peaks[:, key])
        for i, start in enumerate(starts):
            limit = starts[i + 1] if i + 1 < len(starts) else frames
            end = start + 1
            while end < limit and frame[end, key] >= frame_threshold:
                end += 1
            end = max(end, min(start + min_frames, limit))
            # the strongest velocity reading around the onset (the peak may lead by a frame)
            vel = float(np.max(velocity[max(0, start - 1) : start + 2, key]))
            notes.append(
                SecondsNote(
                    pitch=LOWEST_PITCH + key,
                    velocity=int(np.clip(round(vel * 127), 1, 127)),
                    onset=start / FRAMES_PER_SECOND,
                    offset=end / FRAMES_PER_SECOND,
                )
            )
    notes.sort(key=lambda n: (n.onset, n.pitch))
    return notes
