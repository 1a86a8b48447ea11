"""Notes -> frame-aligned conditioning features for the spectrogram model.

Notes arrive as rows (pitch, velocity, start_s, end_s) in seconds. Each note is drawn onto the
mel grid as a harmonic template (where its partials fall), so the network does not have to learn
the pitch -> frequency map from scratch; four channels say how that template is sounding at a
frame: held, just struck, how long ago it was struck, and just released.
"""

from __future__ import annotations

import functools

import numpy as np

from plugins.melnet.audio import F_MAX, HOP, N_MELS, SAMPLE_RATE, hz_to_mel, mel_centres_hz

INSTRUMENTS: tuple[str, ...] = ("piano", "guitar", "strings", "flute")
GM_PROGRAMS: dict[str, int] = {"piano": 0, "guitar": 24, "strings": 48, "flute": 73}
BIN_CHANNELS = 4  # held, onset, decay-weighted held, release
FRAME_FEATURES = 4  # notes sounding, loudest velocity, onset flag, seconds since last onset
HARMONICS = 12
FRAME_SECONDS = HOP / SAMPLE_RATE


@functools.cache
def harmonic_template(pitch: int) -> np.ndarray:
    """Energy of a note's first partials on the mel bins, shape (N_MELS,), peak 1."""
    f0 = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
    centres = hz_to_mel(mel_centres_hz())
    spacing = centres[1] - centres[0]
    template = np.zeros(N_MELS, dtype=np.float64)
    for k in range(1, HARMONICS + 1):
        freq = f0 * k
        if freq >= F_MAX:
            break
        distance = (hz_to_mel(freq) - centres) / spacing
        template += np.exp(-0.5 * (distance / 0.6) ** 2) / k
    peak = template.max()
    return (template / peak if peak > 0 else template).astype(np.float32)


def note_features(notes: np.ndarray, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin features (frames, N_MELS, BIN_CHANNELS) and per-frame features
    (frames, FRAME_FEATURES) for notes given as rows (pitch, velocity, start_s, end_s)."""
    bins = np.zeros((frames, N_MELS, BIN_CHANNELS), dtype=np.float32)
    frame_feats = np.zeros((frames, FRAME_FEATURES), dtype=np.float32)
    times = np.arange(frames) * FRAME_SECONDS
    last_onset = np.full(frames, -10.0)
    for pitch, velocity, start, end in np.asarray(notes, dtype=np.float64).reshape(-1, 4):
        if end <= start or start >= times[-1] + FRAME_SECONDS or not 0 <= pitch <= 127:
            continue
        template = harmonic_template(int(pitch))
        loudness = float(velocity) / 127.0
        age = times - start
        held = (age >= -FRAME_SECONDS / 2) & (times < end)
        onset = np.clip(1.0 - np.abs(age) / (2 * FRAME_SECONDS), 0.0, 1.0)
        decay = np.where(held, np.exp(-np.maximum(age, 0.0) / 0.5), 0.0)
        since_off = times - end
        release = np.where(since_off >= 0, np.exp(-since_off / 0.15), 0.0)
        weights = np.stack([held * 1.0, onset, decay, release], axis=1) * loudness
        active = np.nonzero(weights.any(axis=1))[0]
        if active.size == 0:
            continue
        bins[active] += weights[active, None, :] * template[None, :, None]
        frame_feats[held, 0] += 1.0
        frame_feats[held, 1] = np.maximum(frame_feats[held, 1], loudness)
        frame_feats[:, 2] = np.maximum(frame_feats[:, 2], onset)
        struck = age >= -FRAME_SECONDS / 2
        last_onset = np.where(struck, np.maximum(last_onset, start), last_onset)
    frame_feats[:, 0] = np.minimum(frame_feats[:, 0], 8.0) / 4.0
    frame_feats[:, 3] = np.minimum(times - last_onset, 2.0)
    return np.minimum(bins, 3.0), frame_feats
