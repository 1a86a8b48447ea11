"""Drums from real recorded samples: the Hydrogen drum kits Debian packages
(`hydrogen-drumkits`, /usr/share/hydrogen/data/drumkits/<kit>/drumkit.xml + FLAC/WAV files).

A soundfont's drum kit is a handful of samples shared by every song; these kits are recorded
acoustic and electronic sets with velocity layers and their own room. A kit's instruments are
mapped to General MIDI keys by name ("Kick", "Snare Rock", "Closed HH", "Tom Low", ...), so the
same drum parts (arrangement.py, styles.py) play on them.
"""

from __future__ import annotations

import functools
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plugins.separation import arrangement as arr
from plugins.separation.arrangement import Part

KIT_DIR = Path("/usr/share/hydrogen/data/drumkits")
MAX_SAMPLE_SECONDS = 3.0  # crashes ring for 10 s; the songs are short
# Name patterns, tried in order (the first that matches an instrument's name wins).
GM_NAMES: tuple[tuple[int, str], ...] = (
    (arr.PEDAL_HAT, r"pedal|foot"),
    (arr.OPEN_HAT, r"open|ohh|hat.*op"),
    (arr.HAT, r"closed|hi.?hat|\bhh\b|hat"),
    (arr.KICK, r"kick|bass ?drum|\bbd\b"),
    (arr.SNARE2, r"rim"),
    (arr.SNARE, r"snare|\bsd\b"),
    (arr.CLAP, r"clap"),
    (arr.CRASH, r"crash|splash|china"),
    (arr.RIDE, r"ride"),
    (arr.LOW_TOM, r"floor|tom.*lo|lo.*tom"),
    (arr.HIGH_TOM, r"tom.*hi|hi.*tom"),
    (arr.MID_TOM, r"tom"),
)
FALLBACK = {
    arr.SNARE2: arr.SNARE,
    arr.CLAP: arr.SNARE,
    arr.PEDAL_HAT: arr.HAT,
    arr.RIDE: arr.HAT,
    arr.CRASH: arr.OPEN_HAT,
    arr.HIGH_TOM: arr.MID_TOM,
    arr.LOW_TOM: arr.MID_TOM,
}
NEEDED = (arr.KICK, arr.SNARE, arr.HAT)  # a kit without these cannot play a groove


@dataclass(frozen=True)
class Layer:
    min_velocity: float  # 0..1
    max_velocity: float
    path: Path


@dataclass(frozen=True)
class Instrument:
    name: str
    volume: float
    pan: tuple[float, float]  # left and right gains
    layers: tuple[Layer, ...]


def available_kits(folder: Path = KIT_DIR) -> list[str]:
    """Installed kits that can play a groove (kick, snare and hi-hat), by folder name."""
    if not folder.is_dir():
        return []
    out = []
    for kit in sorted(folder.iterdir()):
        try:
            mapping = kit_mapping(kit)
        except (OSError, ET.ParseError):
            continue
        if all(key in mapping for key in NEEDED):
            out.append(kit.name)
    return out


def _text(node: ET.Element, tag: str, default: str = "") -> str:
    found = node.find(tag)
    return found.text.strip() if found is not None and found.text else default


def _strip_namespaces(root: ET.Element) -> None:
    for node in root.iter():
        node.tag = node.tag.split("}", 1)[-1]


def _instrument(kit: Path, node: ET.Element) -> Instrument | None:
    layers = []
    for layer in node.iter("layer"):
        name = _text(layer, "filename")
        if name:
            low = float(_text(layer, "min", "0"))
            high = float(_text(layer, "max", "1"))
            layers.append(Layer(low, high, kit / name))
    if not layers and _text(node, "filename"):  # the older format: one file per instrument
        layers.append(Layer(0.0, 1.0, kit / _text(node, "filename")))
    layers = [layer for layer in layers if layer.path.is_file()]
    if not layers or _text(node, "isMuted") == "true":
        return None
    return Instrument(
        _text(node, "name"),
        float(_text(node, "volume", "1")),
        (float(_text(node, "pan_L", "1")), float(_text(node, "pan_R", "1"))),
        tuple(sorted(layers, key=lambda layer: layer.min_velocity)),
    )


@functools.cache
def kit_mapping(kit: Path) -> dict[int, Instrument]:
    """GM key -> the kit's first instrument whose name fits it."""
    root = ET.parse(kit / "drumkit.xml").getroot()
    _strip_namespaces(root)
    mapping: dict[int, Instrument] = {}
    for node in root.iter("instrument"):
        instrument = _instrument(kit, node)
        if instrument is None:
            continue
        name = instrument.name.lower()
        for key, pattern in GM_NAMES:
            if re.search(pattern, name):
                mapping.setdefault(key, instrument)
                break
    return mapping


@functools.cache
def _sample(path: Path, rate: int) -> np.ndarray:
    """(frames, 2) float32 at `rate`, at most MAX_SAMPLE_SECONDS with a short fade-out."""
    import soundfile
    from scipy.signal import resample_poly

    audio, source_rate = soundfile.read(path, dtype="float32", always_2d=True)
    audio = audio[: int(MAX_SAMPLE_SECONDS * source_rate)]
    if audio.shape[1] == 1:
        audio = np.repeat(audio, 2, axis=1)
    audio = audio[:, :2]
    if source_rate != rate:
        g = math.gcd(int(source_rate), rate)
        audio = resample_poly(audio, rate // g, int(source_rate) // g, axis=0)
    fade = min(len(audio), int(0.05 * rate))
    audio[len(audio) - fade :] *= np.linspace(1, 0, fade, dtype=np.float32)[:, None]
    return np.asarray(audio, np.float32)


def render_drums(kit: str, part: Part, tempo: float, frames: int, rate: int) -> np.ndarray:
    """The drum part played on a Hydrogen kit: (frames, 2) float32."""
    mapping = kit_mapping(KIT_DIR / kit)
    out = np.zeros((frames, 2), np.float32)
    samples_per_beat = 60.0 / tempo * rate
    for event in part.events:
        instrument = mapping.get(event.pitch) or mapping.get(FALLBACK.get(event.pitch, -1))
        if instrument is None:
            continue
        velocity = event.velocity / 127
        layer = next(
            (la for la in instrument.layers if la.min_velocity <= velocity <= la.max_velocity),
            instrument.layers[-1],
        )
        sample = _sample(layer.path, rate)
        start = int(round(event.start * samples_per_beat))
        if start >= frames:
            continue
        n = min(len(sample), frames - start)
        gain = instrument.volume * velocity**1.5
        pan = np.asarray(instrument.pan, np.float32)
        out[start : start + n] += sample[:n] * (gain * pan)
    return out
