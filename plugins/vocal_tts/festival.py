"""Festival as a teacher: speech plus the time of every segment, from a `festival` process.

Festival returns its utterance structure, so each segment comes with its end time and the
text token it belongs to: aligned like espeak-ng, no forced aligner. One process speaks a
whole batch of sentences (start-up, ~0.4 s, loads the voice once). HTS voices honour a speed
factor (hts_engine's -r), other voices Festival's Duration_Stretch.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import resample_poly

from plugins.vocal_tts.audio import SAMPLE_RATE
from plugins.vocal_tts.espeak import Phone, Utterance
from plugins.vocal_tts.phonemes import SILENCE

DEFAULT_RATE = 170  # words per minute the teacher's own timing is taken to be
# The US English phone set of Festival's and flite's voices (radio/CMU), pauses aside.
PHONES = (
    "aa ae ah ao aw ax axr ay b ch d dh dx eh el em en er ey f g hh ih ix iy jh k l m n ng nx ow"
    " oy p r s sh t th uh uw v w y z zh"
).split()


class FestivalError(RuntimeError):
    pass


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _script(texts: Sequence[str], voice: str, speed: float, folder: Path) -> str:
    lines = [f"(voice_{voice})"]
    if voice.endswith("_hts"):
        lines.append(
            f'(set! hts_engine_params (append hts_engine_params (list (list "-r" {speed:.4f}))))'
        )
    else:
        lines.append(f"(Parameter.set 'Duration_Stretch {1.0 / speed:.4f})")
    for index, text in enumerate(texts):
        wav = folder / f"{index}.wav"
        lines += [
            f"(set! utt (Utterance Text {_quoted(text)}))",
            "(utt.synth utt)",
            f"(utt.save.wave utt {_quoted(str(wav))} 'riff)",
            f'(format t "@utt {index}\\n")',
            '(mapcar (lambda (s) (format t "%s %f %s\\n" (item.name s) (item.feat s "end")'
            ' (item.feat s "R:SylStructure.parent.parent.R:Token.parent.name")))'
            " (utt.relation.items utt 'Segment))",
        ]
    return "\n".join(lines) + "\n"


def token_positions(text: str, tokens: Sequence[str]) -> list[int]:
    """1-based character offset of each token, found left to right (as espeak-ng reports
    word positions); a token not found in the text takes the position after the previous."""
    lowered, cursor, found = text.lower(), 0, []
    for token in tokens:
        at = lowered.find(token.lower(), cursor)
        if at < 0:
            found.append(cursor + 1)
            continue
        found.append(at + 1)
        cursor = at + len(token)
    return found


def utterance_from(
    text: str, audio: np.ndarray, native_rate: int, rows: Sequence[tuple[str, float, str]]
) -> Utterance:
    """Audio at SAMPLE_RATE plus Phones from (segment, end seconds, token) rows; pauses become
    SILENCE segments, and segments of one token share that token's text position."""
    if native_rate != SAMPLE_RATE:
        audio = resample_poly(audio, SAMPLE_RATE, native_rate)
    audio = np.asarray(audio, dtype=np.float32)
    # A new token starts wherever the token name changes or a pause intervenes.
    numbers, names, previous = [], [], None
    for symbol, _, token in rows:
        pause = _is_pause(symbol, token)
        if not pause and token != previous:
            names.append(token)
        numbers.append(-1 if pause else len(names) - 1)
        previous = None if pause else token
    positions = token_positions(text, names)
    phones, start = [], 0
    for (symbol, end_seconds, _), number in zip(rows, numbers, strict=True):
        end = min(int(round(end_seconds * SAMPLE_RATE)), len(audio))
        if end > start:
            position = positions[number] if number >= 0 else (positions[0] if positions else 1)
            phones.append(Phone(SILENCE if number < 0 else symbol, start, end, position))
        start = max(start, end)
    return Utterance(audio, phones)


def _is_pause(symbol: str, token: str) -> bool:
    return symbol in ("pau", "h#", "brth") or token == "0"


def speak_many(
    texts: Sequence[str], voice: str = "cmu_us_slt_arctic_hts", rate: int = DEFAULT_RATE
) -> list[Utterance]:
    """Each text spoken by the Festival voice `voice`, at `rate` words per minute."""
    if shutil.which("festival") is None:
        raise FestivalError(
            "festival is not installed (Debian packages festival, festvox-us-slt-hts)"
        )
    if not texts:
        return []
    with tempfile.TemporaryDirectory(prefix="dawhost-festival-") as name:
        folder = Path(name)
        script = folder / "speak.scm"
        script.write_text(_script(texts, voice, rate / DEFAULT_RATE, folder))
        done = subprocess.run(
            ["festival", "--batch", str(script)],
            capture_output=True,
            text=True,
            timeout=60 + 10 * len(texts),
        )
        rows: dict[int, list[tuple[str, float, str]]] = {}
        current = -1
        for line in done.stdout.splitlines():
            if line.startswith("@utt "):
                current = int(line.split()[1])
                rows[current] = []
            elif current >= 0 and line.strip():
                symbol, end, token = line.split(" ", 2)
                rows[current].append((symbol, float(end), token.strip()))
        utterances = []
        for index, text in enumerate(texts):
            wav = folder / f"{index}.wav"
            if index not in rows or not wav.is_file():
                raise FestivalError(
                    f"festival voice {voice} failed on {text[:40]!r}: {done.stderr.strip()[-300:]}"
                )
            audio, native = soundfile.read(wav, dtype="float32")
            utterances.append(utterance_from(text, audio, native, rows[index]))
    return utterances


def speak(text: str, voice: str = "cmu_us_slt_arctic_hts", rate: int = DEFAULT_RATE) -> Utterance:
    return speak_many([text], voice, rate)[0]
