"""Fitting lyrics to a melody: the notes inside the requested bars, made monophonic, checked
against the voice's range, and matched to syllables (one note each; spare notes become a
melisma on the last syllable)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from host import BadInput, Note
from plugins.vocal_tts.voices import SINGING_RANGE, VOICE_NAMES, register_of

# What each voice sings well: the teacher data covers its register's MELODY_RANGE, this allows
# a little more.
VOICE_RANGE = {name: SINGING_RANGE[register_of(name)] for name in VOICE_NAMES}


@dataclass(frozen=True)
class Window:
    """The bars being rendered, in song beats."""

    start_beat: float
    beats: float
    seconds_per_beat: float

    @property
    def end_beat(self) -> float:
        return self.start_beat + self.beats

    def frame_of(self, beat: float, frames_per_second: float) -> int:
        return round((beat - self.start_beat) * self.seconds_per_beat * frames_per_second)


def melody_in(notes: Sequence[Note], window: Window, bars_text: str) -> list[Note]:
    """Notes starting inside the window, one at a time: of notes starting together the highest
    is kept (a vocal line is monophonic) and a note is cut where the next one begins."""
    inside = sorted(
        (n for n in notes if window.start_beat - 1e-9 <= n.start < window.end_beat),
        key=lambda n: (n.start, -n.pitch),
    )
    line: list[Note] = []
    for note in inside:
        if line and abs(note.start - line[-1].start) < 1e-6:
            continue
        if line and line[-1].start + line[-1].duration > note.start:
            last = line[-1]
            line[-1] = Note(last.pitch, last.velocity, last.start, note.start - last.start)
        line.append(note)
    if not line:
        first = min((n.start for n in notes), default=None)
        hint = f"; the first note starts at beat {first:g}" if first is not None else ""
        raise BadInput("notes", f"has no note starting inside {bars_text}{hint}")
    return line


def check_range(line: Sequence[Note], voice: str, transpose: int) -> None:
    low, high = VOICE_RANGE[voice]
    for index, note in enumerate(line):
        pitch = note.pitch + transpose
        if not low <= pitch <= high:
            shifted = f" ({note.pitch} transposed by {transpose})" if transpose else ""
            raise BadInput(
                "notes",
                f"note {index} has pitch {pitch}{shifted}, outside the {voice} voice's range "
                f"{low}-{high} (MIDI); use the transpose option or a voice of the other register",
            )


def assign(syllable_count: int, line: Sequence[Note], bars_text: str) -> list[tuple[float, float]]:
    """(start_beat, end_beat) per syllable; the last syllable holds any spare notes."""
    if syllable_count > len(line):
        raise BadInput(
            "lyrics",
            f"has {syllable_count} syllables but only {len(line)} notes start inside "
            f"{bars_text}; add notes, shorten the lyrics or render more bars",
        )
    spans = [(n.start, n.start + n.duration) for n in line[:syllable_count]]
    if syllable_count < len(line):
        last = line[-1]
        spans[-1] = (spans[-1][0], last.start + last.duration)
    return spans
