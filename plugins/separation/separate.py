"""Separating audio of any length in bounded memory: the file is read in windows of `hop`
seconds plus `context` seconds either side, each window is separated on its own, and windows
are cross-faded over their shared context (linear ramps that sum to one) as they are written.

Memory depends on the window length only; progress is reported (and cancellation checked)
once per window.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile
import torch
from scipy.signal import resample_poly

from plugins.separation.audio_io import read_span
from plugins.separation.network import MMDenseNet, channels_last
from plugins.separation.spectral import (
    apply_gains,
    internal_spectrum,
    inverse,
    masks_at_rate,
    spectrum,
)
from plugins.separation.stems import INTERNAL_RATE, STEMS
from plugins.separation.stereo import StereoRefiner, stereo_masks
from plugins.separation.wiener import wiener

HOP_SECONDS = 10.0
CONTEXT_SECONDS = 1.0


def to_internal_rate(mono: np.ndarray, rate: int) -> np.ndarray:
    if rate == INTERNAL_RATE:
        return mono
    g = math.gcd(INTERNAL_RATE, rate)
    up, down = INTERNAL_RATE // g, rate // g
    if max(up, down) > 2000:  # odd rates: a polyphase filter would be huge; go via FFT
        from scipy.signal import resample

        return resample(mono, int(round(len(mono) * INTERNAL_RATE / rate)))
    return resample_poly(mono, up, down)


class Separator:
    """Runs the network on windows of audio and filters the audio at its own rate; with a
    stereo refiner, stereo input gets masks per channel."""

    def __init__(
        self,
        network: MMDenseNet,
        wiener_iterations: int = 0,
        refiner: StereoRefiner | None = None,
    ) -> None:
        # Channels-last halves the time of oneDNN's convolutions on this network (measured:
        # 240 -> 125 ms for 12 s of audio on 2 cores; the refiner 150 -> 60 ms); the numbers
        # agree to 1e-6.
        self.network = channels_last(network.eval())
        self.refiner = channels_last(refiner.eval()) if refiner is not None else None
        self.wiener_iterations = wiener_iterations

    @classmethod
    def from_checkpoint(cls, path: Path, wiener_iterations: int = 0) -> Separator:
        """The checkpoint's network, and its stereo refiner when it has one."""
        from plugins.separation.checkpoint import load_with_refiner

        network, refiner, _ = load_with_refiner(path)
        return cls(network, wiener_iterations, refiner)

    @torch.inference_mode()
    def masks(self, audio: np.ndarray, rate: int) -> torch.Tensor:
        """(frames, channels) audio -> soft masks at the internal rate: (stems, N_BINS,
        internal frames) for every channel, or for stereo input with the refiner or stereo
        cues (stems, channels, N_BINS, internal frames)."""
        hears_stereo = self.refiner is not None or self.network.config.spatial_inputs
        if audio.shape[1] == 1 or not hears_stereo:
            mono = to_internal_rate(audio.mean(axis=1), rate).astype(np.float32)
            magnitude = internal_spectrum(torch.from_numpy(mono))[:-1].abs()
            return self.network.masks_any_length(magnitude[None])[0]
        channels = np.stack([to_internal_rate(c, rate) for c in audio.T]).astype(np.float32)
        masks, _ = stereo_masks(self.network, self.refiner, torch.from_numpy(channels)[None])
        return masks[0].transpose(0, 1)

    @torch.inference_mode()
    def separate_window(self, audio: np.ndarray, rate: int) -> np.ndarray:
        """(frames, channels) -> (stems, frames, channels) at the same rate."""
        return filter_with_masks(self.masks(audio, rate), audio, rate, self.wiener_iterations)

    def separate(
        self, audio: np.ndarray, rate: int, progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Whole array in memory (evaluation, tests): (frames, ch) -> (stems, frames, ch)."""
        out = np.zeros((len(STEMS), *audio.shape), np.float32)
        position = 0

        def write(block: np.ndarray) -> None:
            nonlocal position
            out[:, position : position + block.shape[1]] = block
            position += block.shape[1]

        stream_windows(
            len(audio), rate, lambda a, b: audio[a:b], self.separate_window, write, progress
        )
        return out

    def separate_file(
        self,
        path: Path,
        targets: dict[str, Path],
        length: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Separate a file into one float WAV per stem, written to a temporary name and
        renamed into place only when complete (a cancelled job leaves no half files)."""
        with soundfile.SoundFile(str(path)) as source:
            rate, channels = source.samplerate, source.channels
            total = min(source.frames, length) if length else source.frames
            temporary = {stem: p.with_name(p.name + ".part") for stem, p in targets.items()}
            writers = {
                stem: soundfile.SoundFile(
                    str(temporary[stem]), "w", rate, channels, subtype="FLOAT", format="WAV"
                )
                for stem in targets
            }
            try:

                def write(block: np.ndarray) -> None:
                    for i, stem in enumerate(STEMS):
                        if stem in writers:
                            writers[stem].write(block[i])

                stream_windows(
                    total,
                    rate,
                    lambda a, b: read_span(source, a, b),
                    self.separate_window,
                    write,
                    progress,
                )
            except BaseException:
                for writer in writers.values():
                    writer.close()
                for tmp in temporary.values():
                    tmp.unlink(missing_ok=True)
                raise
            for writer in writers.values():
                writer.close()
        for stem, tmp in temporary.items():
            os.replace(tmp, targets[stem])


@torch.inference_mode()
def filter_with_masks(
    masks: torch.Tensor, audio: np.ndarray, rate: int, wiener_iterations: int = 0
) -> np.ndarray:
    """Internal-rate masks that sum to one over stems, (stems, N_BINS, internal frames) or per
    channel (stems, channels, N_BINS, internal frames), applied to (frames, channels) audio at
    its own rate -> (stems, frames, channels)."""
    x = torch.from_numpy(np.ascontiguousarray(audio.T))
    mix = spectrum(x, rate)  # (channels, bins, frames)
    flat = masks.flatten(0, -3)  # masks_at_rate takes (sources, bins, frames)
    gains = masks_at_rate(flat, rate, mix.shape[-2], mix.shape[-1])
    gains = gains.unflatten(0, masks.shape[:-2])
    length = audio.shape[0]
    if wiener_iterations:
        estimates = wiener(apply_gains(gains, mix), mix, wiener_iterations)
        stems = inverse(estimates, rate, length)  # (stems, channels, frames)
    else:
        # The masks sum to one, so the stems sum to the mix: filter all but the last and take
        # the last as what remains (a quarter less STFT work).
        stems = inverse(apply_gains(gains[:-1], mix), rate, length)
        stems = torch.cat([stems, (x - stems.sum(dim=0))[None]])
    return stems.permute(0, 2, 1).numpy()


def window_weights(
    start: int, stop: int, index: int, count: int, hop: int, context: int
) -> np.ndarray:
    """Cross-fade weights for window `index` covering absolute samples [start, stop)."""
    t = np.arange(start, stop, dtype=np.float64) + 0.5
    weight = np.ones(stop - start)
    if context > 0 and index > 0:
        weight = np.minimum(weight, (t - (index * hop - context)) / (2 * context))
    if context > 0 and index < count - 1:
        weight = np.minimum(weight, ((index + 1) * hop + context - t) / (2 * context))
    return np.clip(weight, 0.0, 1.0).astype(np.float32)


def stream_windows(
    total: int,
    rate: int,
    read: Callable[[int, int], np.ndarray],
    process: Callable[[np.ndarray, int], np.ndarray],
    write: Callable[[np.ndarray], None],
    progress: Callable[[int, int], None] | None = None,
    hop_seconds: float = HOP_SECONDS,
    context_seconds: float = CONTEXT_SECONDS,
) -> None:
    """Overlap-add driver: `read(a, b)` gives (frames, ch) audio, `process(audio, rate)` gives
    (stems, frames, ch), `write(block)` receives finished (stems, frames, ch) blocks in order;
    `progress(done, count)` runs before each window (it may raise to stop the work)."""
    hop = max(1, int(hop_seconds * rate))
    context = min(int(context_seconds * rate), hop // 2)
    count = max(1, math.ceil(total / hop))
    pending: np.ndarray | None = None
    for index in range(count):
        if progress:
            progress(index, count)
        last = index == count - 1
        start = max(0, index * hop - context)
        stop = total if last else min(total, (index + 1) * hop + context)
        block = process(read(start, stop), rate)
        block = block * window_weights(start, stop, index, count, hop, context)[None, :, None]
        if pending is not None:
            block[:, : pending.shape[1]] += pending
        emit = stop if last else min(stop, (index + 1) * hop - context)
        write(block[:, : emit - start])
        pending = block[:, emit - start :]
    if progress:
        progress(count, count)
