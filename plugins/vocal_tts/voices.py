"""The voices vocal-tts speaks and sings with: one teacher synthesiser each, one speaker each.

`VoiceName` is the single list of names (data, training, evaluation); `VOICE_TABLE` says which
engine and engine voice teaches each one and which register (melody range) it sings in.
`ShippedVoice` is the `voice` option's schema: the voices the shipped checkpoint has learned
(tests/plugins/test_shipped_checkpoints.py checks the two agree), so the option never offers a
voice the default model refuses. Pure data, no numpy or torch: the plugin imports it to list
its options.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# Order matters: a voice's position is its speaker number in the acoustic model (the first two
# are the espeak-ng voices of the first checkpoints, in their order).
VoiceName = Literal["male", "female", "slt-hts", "flite-slt", "flite-rms", "flite-awb", "flite-kal"]
Engine = Literal["espeak-ng", "festival", "flite"]
Register = Literal["female", "male"]


@dataclass(frozen=True)
class Voice:
    engine: Engine
    engine_voice: str  # espeak-ng voice name, Festival voice function suffix, flite voice
    register: Register
    description: str


VOICE_TABLE: dict[str, Voice] = {
    "male": Voice("espeak-ng", "en-us", "male", "espeak-ng en-us (formant synthesis)"),
    "female": Voice("espeak-ng", "en-us+f2", "female", "espeak-ng en-us+f2 (formant synthesis)"),
    "slt-hts": Voice(
        "festival",
        "cmu_us_slt_arctic_hts",
        "female",
        "Festival HTS voice festvox-us-slt-hts (statistical parametric, US female)",
    ),
    "flite-slt": Voice("flite", "slt", "female", "flite cmu_us_slt (clustergen, US female)"),
    "flite-rms": Voice("flite", "rms", "male", "flite cmu_us_rms (clustergen, US male)"),
    "flite-awb": Voice("flite", "awb", "male", "flite cmu_us_awb (clustergen, Scottish male)"),
    "flite-kal": Voice("flite", "kal16", "male", "flite cmu_us_kal16 (diphone, US male)"),
}
VOICE_NAMES: tuple[str, ...] = get_args(VoiceName)
if tuple(VOICE_TABLE) != VOICE_NAMES:  # pragma: no cover - caught at import, by every test
    raise RuntimeError("VOICE_TABLE and VoiceName must list the same voices in the same order")
ShippedVoice = Literal[
    "male", "female", "slt-hts", "flite-slt", "flite-rms", "flite-awb", "flite-kal"
]
SHIPPED_VOICES: tuple[str, ...] = get_args(ShippedVoice)
if not set(SHIPPED_VOICES) <= set(VOICE_NAMES):  # pragma: no cover - caught at import
    raise RuntimeError("ShippedVoice must list voices of VoiceName")

# MIDI notes each register's sung training data covers, and what it may be asked to sing.
MELODY_RANGE: dict[Register, tuple[int, int]] = {"male": (43, 64), "female": (55, 76)}
SINGING_RANGE: dict[Register, tuple[int, int]] = {"male": (40, 67), "female": (52, 79)}


def speaker_of(voice: str) -> int:
    return VOICE_NAMES.index(voice)


def register_of(voice: str) -> Register:
    return VOICE_TABLE[voice].register
