"""The trained WaveNet as a drop-in vocoder for vocal-tts and melnet, and as a texture source.

`WaveNetVocoder(front_end="music").vocode(spec, samples)` has the call melnet's renderer makes of
its own vocoder; vocal-tts passes its acoustic model's de-normalised log-mels with
front_end="vocal". Sampling is cached and folded (generate.py); `folds` trades quality for time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from plugins.wavenet.checkpoint import DEFAULT_CHECKPOINT, load
from plugins.wavenet.generate import folded_generate
from plugins.wavenet.network import FRONT_ENDS, WaveNet

DEFAULT_FOLDS = 32
DEFAULT_OVERLAP = 1000  # samples: 500 of warm-up, 500 of crossfade per fold boundary
# Below 1 the sampler keeps to the likelier classes: less hiss between and under notes. 0.7 had
# the lowest LSD of 1.0/0.9/0.8/0.7 on held-out voice and music (README, "temperature").
DEFAULT_TEMPERATURE = 0.7


class WaveNetVocoder:
    def __init__(
        self,
        model: WaveNet,
        front_end: str | None,
        folds: int = DEFAULT_FOLDS,
        overlap: int = DEFAULT_OVERLAP,
        temperature: float = DEFAULT_TEMPERATURE,
        seed: int = 0,
    ) -> None:
        self.model = model
        self.front_end = front_end
        self.folds = folds
        self.overlap = overlap
        self.temperature = temperature
        self.seed = seed
        # Called with the sampled fraction (0..1) when `vocode` is given none: how a plugin whose
        # renderer calls `vocode(spec, samples)` (melnet, vocal-tts) keeps its job's progress
        # moving, and its cancel working, through the slow WaveNet stage.
        self.progress: Callable[[float], None] | None = None

    @classmethod
    def from_checkpoint(
        cls, front_end: str | None, path: Path = DEFAULT_CHECKPOINT, **settings: Any
    ) -> WaveNetVocoder:
        model, _ = load(path)
        return cls(model, front_end, **settings)

    @torch.inference_mode()
    def vocode(
        self,
        spec: np.ndarray | torch.Tensor | None,
        samples: int,
        progress: Callable[[float], None] | None = None,
    ) -> np.ndarray:
        """A (frames, bins) log-mel of this vocoder's front-end (None: unconditional) ->
        exactly `samples` samples of float32 audio."""
        if spec is None or self.front_end is None:
            condition = self.model.frame_condition(None, None)
            hop = 256
        else:
            mel = torch.as_tensor(np.asarray(spec, dtype=np.float32))[None]
            condition = self.model.frame_condition(mel, self.front_end)
            hop = FRONT_ENDS[self.front_end].hop
        generator = torch.Generator().manual_seed(self.seed)
        # One-sample steps are tiny matrix products: extra threads only synchronise (and the
        # other core is often busy), so sample on one and give the setting back after.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            audio = folded_generate(
                self.model,
                condition,
                hop,
                samples,
                self.folds,
                self.overlap,
                self.temperature,
                generator,
                progress or self.progress,
            )
        finally:
            torch.set_num_threads(threads)
        return audio.numpy().astype(np.float32)
