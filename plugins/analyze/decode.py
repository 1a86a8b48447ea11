"""From the network's activations to a tempo, beats, downbeats and a time signature.

1. Tempo: the autocorrelation of the beat activation over lags of 40-240 BPM, weighted by the
   network's tempo distribution. A pulse train's autocorrelation peaks equally at its period
   and every multiple of it; the tempo head says which of those is the beat.
2. Beats: dynamic programming (Ellis 2007): the best sequence of frames where the activation
   is high and each gap is close to the period (a log-ratio penalty, `tightness`).
3. Tempo again, precisely: the least-squares slope of the beat times against their index
   (the autocorrelation's lags are whole frames: 3 % apart at 180 BPM).
4. Bars: for 2, 3 and 4 beats a bar and each phase, how much higher the downbeat activation
   is on the chosen beats than on the others, plus the meter head's log-probability; with
   `split_compound` the meter head first says compound (6/8) or simple time.
   2 beats a bar is 6/8 (the beat of a 6/8 bar is a dotted quarter), 3 is 3/4, 4 is 4/4.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from plugins.analyze.network import METER_NAMES, TEMPO_MAX, TEMPO_MIN

BEATS_PER_BAR = {"3/4": 3, "4/4": 4, "6/8": 2}
QUARTERS_PER_BEAT = {"3/4": 1.0, "4/4": 1.0, "6/8": 1.5}
SIGNATURES = {"3/4": (3, 4), "4/4": (4, 4), "6/8": (6, 8)}


@dataclass(frozen=True)
class DecodeSettings:
    tightness: float = 100.0  # DP penalty per squared log-ratio of a gap to the period
    meter_weight: float = 0.2  # weight of the meter head's log-probability against contrast
    trim_threshold: float = 0.1  # leading/trailing beats weaker than this are dropped
    tempo_prior_power: float = 1.0  # how much the tempo head counts against the autocorrelation
    # Let the meter head decide compound (6/8) or simple time, and the downbeats only 3 or 4:
    # a 4/4 bar's third beat often looks like a downbeat (half bars), which reads as 6/8.
    split_compound: bool = False


@dataclass
class Analysis:
    """What the analysis found; times in seconds from the start of the audio."""

    tempo: float  # felt beats a minute (dotted quarters in 6/8)
    meter: str  # "3/4", "4/4" or "6/8"
    beats: np.ndarray
    downbeats: np.ndarray
    first_downbeat_index: int  # index into `beats`
    tempo_confidence: float = 0.0
    meter_probabilities: dict[str, float] = field(default_factory=dict)

    @property
    def signature(self) -> tuple[int, int]:
        return SIGNATURES[self.meter]

    @property
    def quarter_tempo(self) -> float:
        """Quarter notes a minute: what a DAW's (and dawhost's) transport tempo means."""
        return self.tempo * QUARTERS_PER_BEAT[self.meter]

    def beat_positions(self) -> np.ndarray:
        """Each beat's position in quarter notes, the first downbeat at 0 (pickups < 0)."""
        index = np.arange(len(self.beats)) - self.first_downbeat_index
        return index * QUARTERS_PER_BEAT[self.meter]


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - np.max(logits))
    return e / e.sum()


def beat_period(
    activation: np.ndarray,
    fps: float,
    tempo_probs: np.ndarray | None,
    tempo_range: tuple[float, float] = (TEMPO_MIN, TEMPO_MAX),
    prior_power: float = 1.0,
) -> float:
    """The beat period in frames (whole frames), from the autocorrelation and the tempo head,
    within `tempo_range` (BPM)."""
    x = activation - activation.mean()
    slowest, fastest = tempo_range
    lags = np.arange(int(np.floor(60 * fps / fastest)), int(np.ceil(60 * fps / slowest)) + 1)
    lags = lags[lags < len(x)]
    if len(lags) == 0:
        return 60 * fps / 120.0
    acf = np.array([np.dot(x[:-lag], x[lag:]) / (len(x) - lag) for lag in lags])
    acf = np.clip(acf / (np.max(np.abs(acf)) or 1.0), 0.0, None)
    if tempo_probs is None:
        # No head to say which multiple is the beat: the shortest strong period.
        peaks = [
            i
            for i in range(len(acf))
            if acf[i] >= 0.7 * acf.max()
            and acf[i] >= acf[max(0, i - 1)]
            and acf[i] >= acf[min(len(acf) - 1, i + 1)]
        ]
        return float(lags[peaks[0] if peaks else int(np.argmax(acf))])
    bpm = 60 * fps / lags
    prior = np.interp(bpm, np.arange(TEMPO_MIN, TEMPO_MAX + 1), smooth(tempo_probs, 3))
    return float(lags[int(np.argmax((acf + 0.05) * prior**prior_power))])


def smooth(values: np.ndarray, width: int) -> np.ndarray:
    kernel = np.exp(-0.5 * (np.arange(-3 * width, 3 * width + 1) / width) ** 2)
    return np.convolve(values, kernel / kernel.sum(), mode="same")


def track_beats(activation: np.ndarray, period: float, tightness: float) -> np.ndarray:
    """Frames of the best beat sequence for `period` (Ellis's dynamic programme)."""
    frames = len(activation)
    if frames == 0:
        return np.zeros(0, int)
    lo, hi = max(1, int(round(period / 2))), max(2, int(round(period * 2)))
    gaps = np.arange(lo, hi + 1)
    penalty = -tightness * np.log(gaps / period) ** 2
    cumulative = activation.astype(np.float64).copy()
    back = np.full(frames, -1)
    for t in range(lo, frames):
        first = max(0, t - hi)
        window = cumulative[first : t - lo + 1][::-1]  # gaps lo.. upwards
        candidates = window + penalty[: len(window)]
        best = int(np.argmax(candidates))
        if candidates[best] > 0:
            cumulative[t] += candidates[best]
            back[t] = t - (lo + best)
    tail = int(round(period))
    end = (
        frames - tail + int(np.argmax(cumulative[-tail:]))
        if frames > tail
        else int(np.argmax(cumulative))
    )
    beats = [end]
    while back[beats[-1]] >= 0:
        beats.append(int(back[beats[-1]]))
    return np.array(beats[::-1])


def trim(beats: np.ndarray, activation: np.ndarray, threshold: float) -> np.ndarray:
    """Drop leading and trailing beats where the activation (near the beat) is weak: silence
    before and after the music."""
    strength = np.array([activation[max(0, b - 2) : b + 3].max() for b in beats])
    strong = np.nonzero(strength >= threshold)[0]
    if len(strong) == 0:
        return beats
    return beats[strong[0] : strong[-1] + 1]


def fitted_tempo(beats: np.ndarray, fps: float, fallback: float) -> float:
    """Beats a minute from the least-squares slope of beat time against index."""
    if len(beats) < 3:
        return fallback
    index = np.arange(len(beats))
    slope = np.polyfit(index, beats / fps, 1)[0]
    return float(60.0 / slope) if slope > 0 else fallback


def bars(
    beat_frames: np.ndarray,
    downbeat_activation: np.ndarray,
    meter_probs: np.ndarray | None,
    meter_weight: float,
    meters: tuple[str, ...] = tuple(BEATS_PER_BAR),
) -> tuple[str, int]:
    """(meter, index of the first downbeat among the beats), the meter one of `meters`."""
    if len(beat_frames) == 0:
        return "4/4", 0
    strength = np.array(
        [downbeat_activation[max(0, b - 2) : b + 3].max() for b in beat_frames], np.float64
    )
    best: tuple[float, str, int] = (-np.inf, meters[0], 0)
    for meter in meters:
        per_bar = BEATS_PER_BAR[meter]
        if len(strength) < per_bar:
            continue
        prior = 0.0
        if meter_probs is not None:
            prior = meter_weight * float(np.log(meter_probs[METER_NAMES.index(meter)] + 1e-6))
        for phase in range(per_bar):
            chosen = np.zeros(len(strength), bool)
            chosen[phase::per_bar] = True
            others = strength[~chosen]
            contrast = strength[chosen].mean() - (others.mean() if len(others) else 0.0)
            if contrast + prior > best[0]:
                best = (contrast + prior, meter, phase)
    return best[1], best[2]


def analyze(
    beat_logits: np.ndarray,
    downbeat_logits: np.ndarray,
    tempo_logits: np.ndarray | None,
    meter_logits: np.ndarray | None,
    fps: float,
    settings: DecodeSettings | None = None,
    meter: str | None = None,
    tempo_range: tuple[float, float] | None = None,
) -> Analysis:
    """The whole decoding for one track's network outputs; `meter` forces the time signature,
    `tempo_range` (BPM, felt beats) bounds the tempo."""
    settings = settings or DecodeSettings()
    beat_act = 1.0 / (1.0 + np.exp(-beat_logits))
    down_act = 1.0 / (1.0 + np.exp(-downbeat_logits))
    tempo_probs = softmax(tempo_logits) if tempo_logits is not None else None
    meter_probs = softmax(meter_logits) if meter_logits is not None else None
    low, high = tempo_range or (TEMPO_MIN, TEMPO_MAX)
    period = beat_period(beat_act, fps, tempo_probs, (low, high), settings.tempo_prior_power)
    frames = trim(
        track_beats(beat_act, period, settings.tightness), beat_act, settings.trim_threshold
    )
    tempo = fitted_tempo(frames, fps, 60 * fps / period)
    meters = (meter,) if meter else tuple(BEATS_PER_BAR)
    if not meter and meter_probs is not None and settings.split_compound:
        compound = meter_probs[METER_NAMES.index("6/8")] >= 0.5
        meters = ("6/8",) if compound else ("3/4", "4/4")
    meter, first = bars(frames, down_act, meter_probs, settings.meter_weight, meters)
    beats = frames / fps
    confidence = 0.0
    if tempo_probs is not None:
        near = np.abs(np.arange(TEMPO_MIN, TEMPO_MAX + 1) - tempo) <= max(2.0, 0.04 * tempo)
        confidence = float(tempo_probs[near].sum())
    return Analysis(
        tempo=tempo,
        meter=meter,
        beats=beats,
        downbeats=beats[first :: BEATS_PER_BAR[meter]],
        first_downbeat_index=first,
        tempo_confidence=confidence,
        meter_probabilities=(
            {name: float(p) for name, p in zip(METER_NAMES, meter_probs, strict=True)}
            if meter_probs is not None
            else {}
        ),
    )
