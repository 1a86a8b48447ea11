"""espeak-ng through its C library: speech audio plus the exact time of every phoneme.

The library reports a phoneme event with its sample position while it synthesises, so the
teacher audio comes with a phoneme alignment for free (no forced aligner needed). The library
keeps global state, so every call holds one process-wide lock.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

from plugins.vocal_tts.audio import SAMPLE_RATE

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7
_RATE, _PITCH, _RANGE = 1, 3, 4
ESPEAK_RATE = 22_050  # espeak-ng's native rate; resampled to SAMPLE_RATE


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class Phone:
    """One phoneme as espeak-ng spoke it: its mnemonic, sample span (at SAMPLE_RATE) and the
    character offset of the word it belongs to (1-based, as espeak reports it)."""

    symbol: str
    start: int
    end: int
    word_position: int


@dataclass(frozen=True)
class Utterance:
    audio: np.ndarray  # float32 mono at SAMPLE_RATE
    phones: list[Phone]


class EspeakError(RuntimeError):
    pass


class _Espeak:
    def __init__(self) -> None:
        try:
            self.lib = ctypes.CDLL("libespeak-ng.so.1")
        except OSError as exc:
            raise EspeakError(
                "libespeak-ng is not installed (Debian package espeak-ng / libespeak-ng1)"
            ) from exc
        rate = self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_PHONEME_EVENTS
        )
        if rate != ESPEAK_RATE:
            raise EspeakError(f"espeak-ng initialised at {rate} Hz, expected {ESPEAK_RATE}")
        self.lock = threading.Lock()
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, int, bytes]] = []
        self._callback = _Callback(self._collect)  # kept alive: the library holds a pointer
        self.lib.espeak_SetSynthCallback(self._callback)
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]

    def _collect(self, wav, count, events):  # type: ignore[no-untyped-def]
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type in (_EVENT_WORD, _EVENT_PHONEME):
                symbol = (
                    bytes(event.id.string).rstrip(b"\0") if event.type == _EVENT_PHONEME else b""
                )
                self._events.append((event.type, event.text_position, event.sample, symbol))
            index += 1
        return 0

    def speak(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int) -> Utterance:
        encoded = text.encode("utf-8")
        with self.lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EspeakError(f"espeak-ng has no voice {voice!r}")
            self.lib.espeak_SetParameter(_RATE, int(rate), 0)
            self.lib.espeak_SetParameter(_PITCH, int(pitch), 0)
            self.lib.espeak_SetParameter(_RANGE, int(pitch_range), 0)
            self._chunks, self._events = [], []
            status = self.lib.espeak_Synth(encoded, len(encoded) + 1, 0, 0, 0, 0, None, None)
            self.lib.espeak_Synchronize()
            chunks, events = self._chunks, self._events
        if status != 0:
            raise EspeakError(f"espeak-ng failed on {text[:40]!r} (status {status})")
        native = np.concatenate(chunks).astype(np.float32) / 32768.0 if chunks else np.zeros(0)
        audio = resample_poly(native, SAMPLE_RATE // 50, ESPEAK_RATE // 50).astype(np.float32)
        return Utterance(audio, _phones(events, len(audio)))


def _phones(events: list[tuple[int, int, int, bytes]], total: int) -> list[Phone]:
    scale = SAMPLE_RATE / ESPEAK_RATE
    marks = [
        (pos, round(sample * scale), sym.decode("ascii", "replace"))
        for kind, pos, sample, sym in events
        if kind == _EVENT_PHONEME
    ]
    phones = []
    for index, (position, start, symbol) in enumerate(marks):
        end = marks[index + 1][1] if index + 1 < len(marks) else total
        if end > start and symbol:
            phones.append(Phone(symbol, start, min(end, total), position))
    return phones


_engine: _Espeak | None = None
_engine_lock = threading.Lock()


def speak(
    text: str, voice: str = "en-us", rate: int = 170, pitch: int = 50, pitch_range: int = 50
) -> Utterance:
    """Synthesise `text` with espeak-ng; rate in words per minute, pitch and range 0..100."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Espeak()
    return _engine.speak(text, voice, rate, pitch, pitch_range)
