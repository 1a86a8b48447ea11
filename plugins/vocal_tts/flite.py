"""flite as a teacher, through its C library: speech plus every segment's end time and token.

Like Festival (flite is its small C sibling), the utterance structure gives each segment with
its end time and the text token it belongs to, so the audio comes aligned. Voices are the
Debian flite package's: slt, rms, awb (clustergen) and kal16 (diphone). One lock per process:
the library keeps global state.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from plugins.vocal_tts.espeak import Utterance
from plugins.vocal_tts.festival import DEFAULT_RATE, utterance_from

_LIBRARIES = ("libflite.so.1", "libflite_usenglish.so.1", "libflite_cmulex.so.1")
VOICES = ("slt", "rms", "awb", "kal16")


class FliteError(RuntimeError):
    pass


class _Wave(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_char_p),
        ("sample_rate", ctypes.c_int),
        ("num_samples", ctypes.c_int),
        ("num_channels", ctypes.c_int),
        ("samples", ctypes.POINTER(ctypes.c_short)),
    ]


class _Voice(ctypes.Structure):  # the head of cst_voice: its name and feature set
    _fields_ = [("name", ctypes.c_char_p), ("features", ctypes.c_void_p)]


class _Flite:
    def __init__(self) -> None:
        try:
            loaded = [ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL) for name in _LIBRARIES]
        except OSError as exc:
            raise FliteError("libflite is not installed (Debian package flite)") from exc
        lib = self.lib = loaded[0]
        pointer, text = ctypes.c_void_p, ctypes.c_char_p
        for name, restype, argtypes in (
            ("flite_synth_text", pointer, [text, pointer]),
            ("utt_wave", ctypes.POINTER(_Wave), [pointer]),
            ("utt_relation", pointer, [pointer, text]),
            ("relation_head", pointer, [pointer]),
            ("item_next", pointer, [pointer]),
            ("ffeature_string", text, [pointer, text]),
            ("ffeature_float", ctypes.c_float, [pointer, text]),
            ("feat_set_float", None, [pointer, text, ctypes.c_float]),
            ("delete_utterance", None, [pointer]),
        ):
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
        lib.flite_init()
        self.voices: dict[str, int] = {}
        self.lock = threading.Lock()

    def voice(self, name: str) -> int:
        if name not in self.voices:
            if name not in VOICES:
                raise FliteError(f"flite has no voice {name!r}; voices: {', '.join(VOICES)}")
            library = ctypes.CDLL(f"libflite_cmu_us_{name}.so.1")
            register = getattr(library, f"register_cmu_us_{name}")
            register.restype, register.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
            self.voices[name] = int(register(None))
        return self.voices[name]

    def speak(self, text: str, voice: str, rate: int) -> Utterance:
        lib = self.lib
        with self.lock:
            handle = self.voice(voice)
            features = _Voice.from_address(handle).features
            lib.feat_set_float(features, b"duration_stretch", DEFAULT_RATE / max(rate, 1))
            utt = lib.flite_synth_text(text.encode("utf-8"), handle)
            if not utt:
                raise FliteError(f"flite voice {voice} failed on {text[:40]!r}")
            try:
                wave = lib.utt_wave(utt).contents
                audio = np.ctypeslib.as_array(wave.samples, shape=(wave.num_samples,))
                audio = audio.astype(np.float32) / 32768.0
                rows = []
                item = lib.relation_head(lib.utt_relation(utt, b"Segment"))
                while item:
                    token = lib.ffeature_string(
                        item, b"R:SylStructure.parent.parent.R:Token.parent.name"
                    )
                    rows.append(
                        (
                            lib.ffeature_string(item, b"name").decode(),
                            float(lib.ffeature_float(item, b"end")),
                            token.decode("utf-8", "replace"),
                        )
                    )
                    item = lib.item_next(item)
                native = int(wave.sample_rate)
            finally:
                lib.delete_utterance(utt)
        return utterance_from(text, audio, native, rows)


_engine: _Flite | None = None
_engine_lock = threading.Lock()


def speak(text: str, voice: str = "slt", rate: int = DEFAULT_RATE) -> Utterance:
    """Synthesise `text` with the flite voice `voice` at about `rate` words per minute."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Flite()
    return _engine.speak(text, voice, rate)
