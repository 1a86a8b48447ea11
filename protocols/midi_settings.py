"""Settings of the MIDI front-end: the `[midi]` table of the server's TOML config.

Example::

    [midi]
    input = ""            # read an existing port (name or part of it) instead of `dawhost in`
    output = ""           # write to an existing port instead of `dawhost out`
    model = ""            # continue_midi model to use first ("" = music-transformer if present)
    primer_bars = 2       # how much of the phrase to send as the primer
    align = "bar"         # the response starts on the next "bar" line or "beat"
    lead_beats = 0.5      # at least this long between the trigger and the response's start
    trigger_cc = 20       # CC that asks for a response (value >= 64; -1 = off)
    trigger_note = -1     # note that asks for a response instead of being recorded (-1 = off)
    silence_beats = 0     # respond after this many beats of silence after playing (0 = off)
    panic_cc = 21         # CC that cancels everything and silences the output (-1 = off)
    first_option_cc = 22  # the model's options map onto CCs from here, in declaration order
    options_cc = {}       # or explicitly: { 74 = "temperature", 75 = "bars" }
    transcribe_audio = "" # the audio file CC 14/15 transcribe (absolute, or in the work folder)
    transcribe_bars = 2   # how many bars, from the file's end, they transcribe
    transcribe_cc = 14    # CC: transcribe the file's last bars, play the notes (-1 = off)
    transcribe_continue_cc = 15  # CC: transcribe them, continue, play the continuation

The server-wide `midi_api` and `midi_latency_ms` live in `[server]` (flags `--midi-api`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class MidiSettings:
    input: str = ""
    output: str = ""
    model: str = ""
    primer_bars: float = 2.0
    align: str = "bar"
    lead_beats: float = 0.5
    trigger_cc: int = 20
    trigger_note: int = -1
    silence_beats: float = 0.0
    panic_cc: int = 21
    first_option_cc: int = 22
    options_cc: dict[int, str] = field(default_factory=dict)
    transcribe_audio: str = ""
    transcribe_bars: float = 2.0
    transcribe_cc: int = 14  # 14 and 15 are undefined in the MIDI spec, as 20..31 are
    transcribe_continue_cc: int = 15

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> MidiSettings:
        """Build from the `[midi]` table; raises ValueError naming the bad key and value."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in section.items():
            if key not in known:
                raise ValueError(f"[midi] has no setting {key!r}; known: {', '.join(known)}")
            values[key] = value
        if "options_cc" in values:
            values["options_cc"] = _cc_table(values["options_cc"])
        settings = cls(**values)
        settings._check()
        return settings

    @property
    def reserved_ccs(self) -> set[int]:
        """CCs with a job of their own: options are never mapped onto them."""
        return {
            self.trigger_cc,
            self.panic_cc,
            self.transcribe_cc,
            self.transcribe_continue_cc,
        } - {-1}

    def _check(self) -> None:
        if not isinstance(self.transcribe_audio, str):
            raise ValueError(f"[midi] transcribe_audio = {self.transcribe_audio!r}; use a path")
        for name in (
            "trigger_cc",
            "trigger_note",
            "panic_cc",
            "transcribe_cc",
            "transcribe_continue_cc",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or not -1 <= value <= 127:
                raise ValueError(f"[midi] {name} = {value!r}; use 0..127, or -1 for off")
        if not isinstance(self.first_option_cc, int) or not 0 <= self.first_option_cc <= 127:
            raise ValueError(f"[midi] first_option_cc = {self.first_option_cc!r}; use 0..127")
        if self.align not in ("bar", "beat"):
            raise ValueError(f'[midi] align = {self.align!r}; use "bar" or "beat"')
        for name, low, high in (
            ("primer_bars", 0.25, 64),
            ("lead_beats", 0.0, 16),
            ("silence_beats", 0.0, 64),
            ("transcribe_bars", 0.25, 64),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"[midi] {name} = {value!r}; use a number")
            if not low <= value <= high:
                raise ValueError(f"[midi] {name} = {value!r}; use {low:g} to {high:g}")


def _cc_table(table: Any) -> dict[int, str]:
    if not isinstance(table, dict):
        raise ValueError(f"[midi] options_cc must be a table of CC number = option name: {table!r}")
    result = {}
    for key, name in table.items():
        try:
            number = int(key)
        except (TypeError, ValueError):
            raise ValueError(f"[midi] options_cc key {key!r} is not a CC number") from None
        if not 0 <= number <= 127 or not isinstance(name, str):
            raise ValueError(f'[midi] options_cc {key!r} = {name!r}; use 0..127 = "option"')
        result[number] = name
    return result
