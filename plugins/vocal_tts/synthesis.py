"""From lyrics (and a melody) to a vocal line: front-end, timing plan, pitch, the two networks.

`prepare()` does everything up to the network inputs (pure numpy, checkable in tests without
weights); `render()` runs the acoustic model and vocoder on a prepared line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from host import BadInput, Note
from plugins.vocal_tts.audio import HOP, SAMPLE_RATE
from plugins.vocal_tts.checkpoint import Bundle
from plugins.vocal_tts.espeak import Utterance
from plugins.vocal_tts.griffin_lim import griffin_lim
from plugins.vocal_tts.melody import Window, assign, check_range, melody_in
from plugins.vocal_tts.phonemes import Syllable, syllables
from plugins.vocal_tts.pitch import analyse_f0, natural_f0, sung_f0, voicing
from plugins.vocal_tts.plan import Plan, audible_spans, placed_plan
from plugins.vocal_tts.teachers import ESPEAK_PITCH, speak
from plugins.vocal_tts.voices import speaker_of

FRAMES_PER_SECOND = SAMPLE_RATE / HOP
MAX_SECONDS = 60.0  # longest line rendered in one request
VOICE_PITCH = ESPEAK_PITCH  # espeak-ng pitch setting for each voice (0..100)
PEAK = 0.8  # output peak level (about -2 dBFS) so lines from different requests match


@dataclass
class Request:
    lyrics: str
    mode: Literal["sing", "speak"]
    notes: Sequence[Note] | None
    tempo: float
    beats_per_bar: float
    start_bar: int = 1
    bars: int = 4
    voice: str = "female"
    transpose: int = 0
    vibrato: float = 0.0
    syllable_beats: float = 0.5
    rate: int = 170


@dataclass
class Prepared:
    plan: Plan
    f0: np.ndarray
    samples: int
    speaker: int
    timings: list[dict[str, Any]] = field(default_factory=list)
    utterance: Utterance | None = None


def clean_lyrics(text: str) -> str:
    """Words, digits and plain punctuation only; a run of punctuation keeps its first mark
    (espeak-ng reads "!!!" aloud as "exclamation"), other symbols become spaces."""
    text = re.sub(r"[^\w\s'\-.,;:!?]", " ", text)
    text = re.sub(r"([.,;:!?])[.,;:!?\s]*(?=[.,;:!?])", "", text)
    return " ".join(text.split())


def _is_latin(letter: str) -> bool:
    return unicodedata.name(letter, "").startswith("LATIN")


def _bars_text(request: Request) -> str:
    last = request.start_bar + request.bars - 1
    return f"bar {request.start_bar}" if request.bars == 1 else f"bars {request.start_bar}-{last}"


def prepare(request: Request) -> Prepared:
    lyrics = clean_lyrics(request.lyrics)
    if not lyrics:
        raise BadInput("lyrics", "is empty; send the words to sing or speak")
    if not any(c.isalnum() for c in lyrics):
        raise BadInput("lyrics", f"has no words to pronounce: {request.lyrics[:40]!r}")
    foreign = next((c for c in lyrics if c.isalpha() and not _is_latin(c)), None)
    if foreign is not None:
        # espeak-ng's English voice would spell "你" as "Chinese letter": refuse instead.
        raise BadInput(
            "lyrics",
            f"contains {foreign!r} ({unicodedata.name(foreign, 'a letter')}); the voice is "
            "English: write the words in the Latin alphabet",
        )
    window = Window(
        (request.start_bar - 1) * request.beats_per_bar,
        request.bars * request.beats_per_bar,
        60.0 / request.tempo,
    )
    seconds = window.beats * window.seconds_per_beat
    if seconds > MAX_SECONDS:
        raise BadInput(
            "bars",
            f"{request.bars} bars at {request.tempo:g} BPM last {seconds:.1f} s;"
            f" at most {MAX_SECONDS:g} s per request: send fewer bars",
        )
    samples = int(round(seconds * SAMPLE_RATE))
    frames = -(-samples // HOP)
    utterance = speak(lyrics, request.voice, request.rate)
    units = syllables(utterance.phones, lyrics)
    if not units:
        raise BadInput(
            "lyrics",
            f"has nothing the {request.voice} voice can pronounce as syllables: {lyrics!r}",
        )
    bars_text = _bars_text(request)
    pitches: list[float | None]
    if request.notes:
        line = melody_in(request.notes, window, bars_text)
        if request.mode == "sing":
            check_range(line, request.voice, request.transpose)
        beat_spans = assign(len(units), line, bars_text)
        note_spans = [
            (
                window.frame_of(n.start, FRAMES_PER_SECOND),
                window.frame_of(n.start + n.duration, FRAMES_PER_SECOND),
            )
            for n in line
        ]
        note_pitches = [float(n.pitch + request.transpose) for n in line]
        sung = request.mode == "sing"
        pitches = [note_pitches[k] if sung else None for k in range(len(units))]
    elif request.mode == "sing":
        raise BadInput(
            "notes",
            "are needed to sing (a melody as notes or a MIDI file); "
            "use the speak verb for a rhythmic spoken line without a melody",
        )
    else:
        beat_spans = _grid(utterance, units, window, request.syllable_beats, bars_text)
        note_spans, note_pitches, pitches = [], [], [None] * len(units)
    spans = [
        (window.frame_of(a, FRAMES_PER_SECOND), window.frame_of(b, FRAMES_PER_SECOND))
        for a, b in beat_spans
    ]
    for k, span in enumerate(audible_spans(spans, frames)):
        if span is None:
            a, b = beat_spans[k]
            raise BadInput(
                "notes" if request.notes else "lyrics",
                f"syllable {k + 1} ({units[k].text!r}) gets no time at beats {a:g}-{b:g}: "
                f"a syllable needs at least one {1000 / FRAMES_PER_SECOND:g} ms frame inside "
                f"{bars_text}; lengthen its notes or render more bars",
            )
    plan = placed_plan(utterance.phones, units, spans, frames)
    source_f0 = analyse_f0(utterance.audio, len(utterance.audio) // HOP + 1)
    voiced = voicing(plan, source_f0)
    if request.mode == "sing":
        f0 = sung_f0(plan, voiced, note_pitches, note_spans, request.vibrato)
    else:
        f0 = natural_f0(plan, source_f0, voiced, request.transpose)
    timings = [
        {
            "syllable": k,
            "word": unit.text,
            "phonemes": [utterance.phones[i].symbol for i in unit.phones],
            "start_beat": round(a, 4),
            "end_beat": round(min(b, window.end_beat), 4),
            "start_seconds": round((a - window.start_beat) * window.seconds_per_beat, 4),
            "end_seconds": round(
                (min(b, window.end_beat) - window.start_beat) * window.seconds_per_beat, 4
            ),
            "pitch": pitches[k],
        }
        for k, (unit, (a, b)) in enumerate(zip(units, beat_spans, strict=True))
    ]
    return Prepared(plan, f0, samples, speaker_of(request.voice), timings, utterance)


def _grid(
    utterance: Utterance, units: Sequence[Syllable], window: Window, step: float, bars_text: str
) -> list[tuple[float, float]]:
    """Speech on the beat grid: syllable k starts on grid step k and keeps its spoken length,
    stretched to at least 60 % of a step and never past the next step."""
    needed = len(units) * step
    if needed > window.beats + 1e-9:
        raise BadInput(
            "lyrics",
            f"has {len(units)} syllables; at {step:g} beats each they need "
            f"{needed:g} beats but {bars_text} hold {window.beats:g}; render more "
            "bars or lower syllable_beats",
        )
    spans = []
    for k, unit in enumerate(units):
        spoken = (
            (utterance.phones[unit.phones[-1]].end - utterance.phones[unit.phones[0]].start)
            / SAMPLE_RATE
            / window.seconds_per_beat
        )
        length = min(step, max(spoken, 0.6 * step))
        start = window.start_beat + k * step
        spans.append((start, start + length))
    return spans


def network_inputs(bundle: Bundle, prepared: Prepared) -> dict[str, torch.Tensor]:
    ids = [bundle.vocabulary.id(s) for s in prepared.plan.symbols]
    return {
        "phonemes": torch.tensor([ids]),
        "durations": torch.from_numpy(prepared.plan.durations).unsqueeze(0),
        "f0": torch.from_numpy(prepared.f0.astype(np.float32)).unsqueeze(0),
        "speaker": torch.tensor([prepared.speaker]),
    }


def render(
    bundle: Bundle,
    prepared: Prepared,
    vocoder: Literal["neural", "griffin-lim", "wavenet"] = "neural",
    progress: Callable[[float, str], None] = lambda f, m: None,
    seed: int = 0,
    wavenet: Any = None,
) -> np.ndarray:
    """Audio (samples,) float32 at SAMPLE_RATE, exactly `prepared.samples` long.

    vocoder "wavenet" samples `wavenet` (a `plugins.wavenet.vocoder.WaveNetVocoder` for the
    "vocal" front-end) on the de-normalised mels."""
    inputs = network_inputs(bundle, prepared)
    with torch.inference_mode():
        progress(0.5, "acoustic model")
        mel = bundle.acoustic(
            inputs["phonemes"], inputs["durations"], inputs["f0"], inputs["speaker"]
        )
        progress(0.7, "vocoder")
        if vocoder == "neural":
            generator = torch.Generator().manual_seed(seed)
            audio = bundle.vocoder(mel, inputs["f0"], generator)[0]
        else:
            raw = mel[0] * torch.from_numpy(bundle.mel_std) + torch.from_numpy(bundle.mel_mean)
            if vocoder == "wavenet":
                wavenet.seed = seed
                audio = torch.from_numpy(wavenet.vocode(raw, raw.shape[0] * HOP))
            else:
                audio = griffin_lim(raw)
    audio = audio.numpy()
    # Rests are silent (no vocoder hiss); the gate ramps over one frame so edges do not click.
    sounding = (prepared.plan.source >= 0).astype(np.float32)
    centres = (np.arange(len(sounding)) + 0.5) * HOP
    audio = audio * np.interp(np.arange(len(audio)), centres, sounding).astype(np.float32)
    audio = np.pad(audio, (0, max(0, prepared.samples - len(audio))))[: prepared.samples]
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 1e-6:
        audio = audio * (PEAK / peak)
    return audio.astype(np.float32)
