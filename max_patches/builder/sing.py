"""dawhost_sing.maxpat: sing lyrics on a melody with vocal-tts (any model that can sing).

The example's lyrics have as many syllables as the melody has notes (hel-lo there my friend:
five syllables, five notes); vocal-tts sings one syllable per note, and spare notes become a
melisma on the last syllable.
"""

from __future__ import annotations

from builder.patcher import Patcher
from builder.render_audio import wav_patch

SING_MODEL = "vocal-tts"
LYRICS = "hello there my friend"
MELODY = "67 100 0 1 69 100 1 1 71 100 2 1 72 100 3 1 74 100 4 2"  # one note per syllable


def sing() -> Patcher:
    return wav_patch(
        "sing",
        "Sings the lyrics on the melody (one syllable per note): the WAV path that comes "
        "back is loaded into [buffer~ dawhost.sing] and played.",
        "2. Edit the lyrics and notes (a note per syllable), set the bars, click the button.",
        SING_MODEL,
        "sing",
        "sing",
        f'lyrics "{LYRICS}" notes {MELODY} bars $2 voice female',
        "dawhost.sing",
        "sing",
    )
