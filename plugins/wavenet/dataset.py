"""Training clips in memory: audio, and its mels from both front-ends, computed once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from plugins.wavenet.network import FRONT_ENDS


@dataclass
class Clip:
    name: str
    audio: np.ndarray  # float32, 16 kHz
    mels: dict[str, np.ndarray]  # front-end name -> (frames, bins)
    f0: np.ndarray | None = None  # Hz per 10 ms frame (voice clips only)


def front_end_mel(front_end: str, audio: np.ndarray) -> np.ndarray:
    """The exact spectrogram the plugin's own front-end computes: what its acoustic model is
    trained to predict, so what the vocoder will be given."""
    if front_end == "vocal":
        from plugins.vocal_tts.audio import log_mel

        with torch.no_grad():
            return log_mel(torch.from_numpy(audio)).numpy()
    from plugins.melnet.audio import log_mel as melnet_log_mel

    return melnet_log_mel(audio)


def read_clips(path: Path, limit: int = 0, with_mels: bool = True) -> list[Clip]:
    data = np.load(path)
    offsets = np.concatenate([[0], np.cumsum(data["lengths"])])
    f0_offsets = np.concatenate([[0], np.cumsum(data["f0_lengths"])])
    has_f0 = len(data["f0_lengths"]) == len(data["lengths"])
    count = len(data["lengths"]) if not limit else min(limit, len(data["lengths"]))
    clips = []
    for k in range(count):
        audio = data["audio"][offsets[k] : offsets[k + 1]].astype(np.float32) / 32767.0
        mels = {n: front_end_mel(n, audio) for n in FRONT_ENDS} if with_mels else {}
        f0 = data["f0"][f0_offsets[k] : f0_offsets[k + 1]] if has_f0 else None
        clips.append(Clip(str(data["names"][k]), audio, mels, f0))
    return clips


def random_batch(
    clips: list[Clip], batch: int, length: int, rng: np.random.Generator, front_end: str
) -> dict[str, torch.Tensor]:
    """`batch` random crops of `length` samples, with the frames that cover them and each
    sample's position relative to the first of those frames."""
    hop = FRONT_ENDS[front_end].hop
    audio, frames, positions = [], [], []
    frames_needed = length // hop + 3
    for _ in range(batch):
        clip = clips[int(rng.integers(len(clips)))]
        start = int(rng.integers(0, max(1, len(clip.audio) - length)))
        piece = clip.audio[start : start + length]
        piece = np.pad(piece, (0, length - len(piece)))
        first = start // hop
        mel = clip.mels[front_end][first : first + frames_needed]
        mel = np.pad(mel, ((0, frames_needed - len(mel)), (0, 0)), mode="edge")
        audio.append(piece)
        frames.append(mel)
        positions.append(np.arange(start, start + length) - first * hop)
    return {
        "audio": torch.from_numpy(np.stack(audio)),
        "mel": torch.from_numpy(np.stack(frames).astype(np.float32)),
        "positions": torch.from_numpy(np.stack(positions)),
    }
