"""Audio to an `Analysis` with the trained network: read any libsndfile format at any rate (the
transcriber's reader: mono, 16 kHz), run the network over the whole track at once (it is small,
and the tempo and meter heads average over all of it) and decode."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from plugins.analyze.decode import Analysis, DecodeSettings, analyze
from plugins.analyze.features import FPS, Frontend


class Analyzer:
    """A loaded beat network plus its decoding settings."""

    def __init__(self, net: object, settings: DecodeSettings) -> None:
        self.net = net
        self.settings = settings
        self.frontend = Frontend()

    @classmethod
    def from_checkpoint(cls, path: Path) -> Analyzer:
        from plugins.analyze.checkpoint import load

        net, payload = load(path)
        return cls(net, DecodeSettings(**payload.get("decode", {})))

    def activations(
        self, audio: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Beat and downbeat logits (frames,), tempo logits and meter logits, for mono audio
        at the frontend's rate."""
        import torch

        with torch.inference_mode():
            features = self.frontend(torch.from_numpy(np.ascontiguousarray(audio))[None])
            beat, downbeat, tempo, meter = (o[0].numpy() for o in self.net(features))  # type: ignore[operator]
            return beat, downbeat, tempo, meter

    def analyze(
        self,
        audio: np.ndarray,
        meter: str | None = None,
        tempo_range: tuple[float, float] | None = None,
    ) -> Analysis:
        return analyze(
            *self.activations(audio), FPS, self.settings, meter=meter, tempo_range=tempo_range
        )
