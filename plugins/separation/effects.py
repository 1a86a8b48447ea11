"""Production effects on rendered stems and on the mix (Spotify's `pedalboard`): EQ,
compression, reverb, delay, chorus, drive and panning per stem, then a bus EQ and a bus
compressor on the whole mix.

Dry soundfont renders all sit in the same place with the same dynamics; released songs are
equalised, compressed, panned and put in a room. Every stem keeps its level (the song's
gains decide the balance), and the stems still sum exactly to the mixture: the bus EQ is a
linear filter applied to each stem alike, and the bus compressor is one gain curve, computed
from the mix, multiplied into every stem (what a compressor on the master does to each part).
"""

from __future__ import annotations

import math

import numpy as np

STEM_CHANCE = 0.8  # a stem gets its own effect chain
BUS_CHANCE = 0.6  # the mix gets bus EQ and compression
PAN_WIDTH = {"vocals": 0.15, "drums": 0.2, "bass": 0.1, "other": 0.7}


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def _eq(rate: int, rng: np.random.Generator) -> list[object]:
    import pedalboard as pb

    top = 0.4 * rate  # keep every corner frequency well below Nyquist at 11.025 kHz too
    chain: list[object] = [
        pb.PeakFilter(
            cutoff_frequency_hz=_log_uniform(rng, 120, min(5000, top)),
            gain_db=float(rng.uniform(-6, 6)),
            q=float(rng.uniform(0.7, 2.0)),
        )
    ]
    if rng.random() < 0.5:
        chain.append(
            pb.LowShelfFilter(
                cutoff_frequency_hz=_log_uniform(rng, 80, 300), gain_db=float(rng.uniform(-4, 4))
            )
        )
    if rng.random() < 0.5:
        chain.append(
            pb.HighShelfFilter(
                cutoff_frequency_hz=_log_uniform(rng, min(2000, top / 2), min(8000, top)),
                gain_db=float(rng.uniform(-6, 5)),
            )
        )
    return chain


def _compressor(rng: np.random.Generator, ratio: tuple[float, float]) -> object:
    import pedalboard as pb

    return pb.Compressor(
        threshold_db=float(rng.uniform(-30, -12)),
        ratio=float(rng.uniform(*ratio)),
        attack_ms=_log_uniform(rng, 1, 30),
        release_ms=_log_uniform(rng, 40, 300),
    )


def _reverb(rng: np.random.Generator, room: tuple[float, float], wet: float) -> object:
    import pedalboard as pb

    return pb.Reverb(
        room_size=float(rng.uniform(*room)),
        damping=float(rng.uniform(0.2, 0.8)),
        wet_level=float(rng.uniform(0.03, wet)),
        dry_level=1.0,
        width=float(rng.uniform(0.5, 1.0)),
    )


def stem_chain(stem: str, rate: int, rng: np.random.Generator) -> list[object]:
    """Effects for one stem, drawn from what engineers commonly put on that kind of part."""
    import pedalboard as pb

    chain = _eq(rate, rng)
    if stem == "vocals":
        chain.insert(0, pb.HighpassFilter(cutoff_frequency_hz=float(rng.uniform(70, 180))))
        chain.append(_compressor(rng, (2, 6)))
        if rng.random() < 0.3:
            chain.append(
                pb.Delay(
                    delay_seconds=float(rng.uniform(0.1, 0.45)),
                    feedback=float(rng.uniform(0.1, 0.4)),
                    mix=float(rng.uniform(0.08, 0.25)),
                )
            )
        if rng.random() < 0.7:
            chain.append(_reverb(rng, (0.2, 0.9), 0.3))
    elif stem == "drums":
        chain.append(_compressor(rng, (2, 8)))
        if rng.random() < 0.4:
            chain.append(_reverb(rng, (0.05, 0.4), 0.15))
    elif stem == "bass":
        chain.append(_compressor(rng, (3, 8)))
        if rng.random() < 0.2:
            chain.append(pb.Distortion(drive_db=float(rng.uniform(3, 15))))
        if rng.random() < 0.3:
            chain.append(pb.LowpassFilter(cutoff_frequency_hz=_log_uniform(rng, 800, 3000)))
    else:
        if rng.random() < 0.15:
            chain.insert(0, pb.Distortion(drive_db=float(rng.uniform(5, 25))))
        if rng.random() < 0.3:
            chain.append(pb.Chorus(rate_hz=float(rng.uniform(0.3, 2)), mix=0.4))
        if rng.random() < 0.5:
            chain.append(_compressor(rng, (1.5, 4)))
        if rng.random() < 0.6:
            chain.append(_reverb(rng, (0.2, 0.9), 0.35))
    return chain


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


def _run(chain: list[object], audio: np.ndarray, rate: int) -> np.ndarray:
    import pedalboard as pb

    board = pb.Pedalboard(chain)  # type: ignore[arg-type]
    return np.asarray(board(np.ascontiguousarray(audio.T), float(rate)).T, np.float32)


def pan(audio: np.ndarray, position: float) -> np.ndarray:
    """Constant-power pan of a stereo (frames, 2) stem; 0 leaves it as it is."""
    angle = (position + 1) * math.pi / 4
    gains = np.array([math.cos(angle), math.sin(angle)], np.float32) * math.sqrt(2)
    return audio * gains


def bus_gain(mix: np.ndarray, rate: int, threshold_db: float, ratio: float) -> np.ndarray:
    """A master compressor's gain per frame (frames,): RMS over 10 ms blocks, 5 ms attack,
    150 ms release, reduction above `threshold_db` by `ratio`."""
    block = max(1, rate // 100)
    frames = len(mix)
    blocks = math.ceil(frames / block)
    padded = np.zeros((blocks * block, mix.shape[1]), np.float32)
    padded[:frames] = mix
    level = np.sqrt(np.mean(padded.reshape(blocks, block, -1) ** 2, axis=(1, 2)) + 1e-12)
    level_db = 20 * np.log10(level)
    over = np.maximum(level_db - threshold_db, 0.0)
    target = -over * (1 - 1 / ratio)  # dB of reduction wanted per block
    attack, release = math.exp(-10 / 5), math.exp(-10 / 150)  # per 10 ms block
    smooth = np.zeros_like(target)
    current = 0.0
    for i, want in enumerate(target):
        coef = attack if want < current else release
        current = coef * current + (1 - coef) * want
        smooth[i] = current
    centres = (np.arange(blocks) + 0.5) * block
    gain_db = np.interp(np.arange(frames), centres, smooth)
    return (10 ** (gain_db / 20)).astype(np.float32)


def produce(
    stems: dict[str, np.ndarray], rate: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Stems (frames, 2) with stem effects, panning and (sometimes) bus processing; each stem
    keeps its RMS through its own chain, and the stems sum to the processed mix."""
    out: dict[str, np.ndarray] = {}
    for stem, audio in stems.items():
        before = _rms(audio)
        if before < 1e-7:  # a dropped stem stays silent
            out[stem] = audio
            continue
        if rng.random() < STEM_CHANCE:
            audio = _run(stem_chain(stem, rate, rng), audio, rate)
        audio = pan(audio, float(rng.uniform(-1, 1)) * PAN_WIDTH.get(stem, 0.5))
        after = _rms(audio)
        out[stem] = (audio * (before / after) if after > 1e-9 else audio).astype(np.float32)
    if rng.random() < BUS_CHANCE:
        eq = _eq(rate, rng)
        # the same filters on each stem (a board resets them on every call): they are linear,
        # so the stems' sum is the bus EQ of the mix
        out = {s: _run(eq, a, rate) for s, a in out.items()}
        gain = bus_gain(np.sum(list(out.values()), axis=0), rate, float(rng.uniform(-24, -12)), 3.0)
        out = {s: a * gain[:, None] for s, a in out.items()}
    return out
