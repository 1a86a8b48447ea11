"""Digests of what every shipped checkpoint generates from fixed seeds, through the core.

Run before and after a refactor that must not change any figure; the two JSON outputs must be
identical (same machine, same torch). `python -m scripts.generation_digest > digest.json`
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile

from host import Note
from host.requests import Done, Error, OutputEvent
from host.smf import write_smf
from tests.fakes import run_requests

MELODY = [60, 100, 0, 1, 62, 90, 1, 1, 64, 90, 2, 1, 65, 80, 3, 1, 67, 100, 4, 2, 64, 90, 6, 2]


def digest(events: list[object]) -> dict[str, object]:
    if isinstance(events[-1], Error):
        return {"error": events[-1].code.value, "message": events[-1].message}
    assert isinstance(events[-1], Done), events[-1]
    outputs = []
    for event in events:
        if not isinstance(event, OutputEvent):
            continue
        out = event.output
        kind = type(out).__name__
        if kind == "NotesOutput":
            text = json.dumps(
                [[n.pitch, n.velocity, n.start, n.duration] for n in out.notes]
                + [out.name, out.final]
            )
        elif kind == "AudioOutput":
            audio, rate = soundfile.read(str(out.path), dtype="float32")
            text = f"{rate}:{audio.shape}:" + hashlib.sha256(audio.tobytes()).hexdigest()
        elif kind == "StemsOutput":
            parts = []
            for name, stem in sorted(out.stems.items()):
                audio, rate = soundfile.read(str(stem.path), dtype="float32")
                parts.append(
                    f"{name}:{rate}:{audio.shape}:{hashlib.sha256(audio.tobytes()).hexdigest()}"
                )
            text = ";".join(parts)
        elif kind == "FileOutput":
            text = (
                f"{out.name}:{out.media_type}:" + hashlib.sha256(out.path.read_bytes()).hexdigest()
            )
        else:
            text = json.dumps(out.data, sort_keys=True, default=str)
        outputs.append(f"{kind}:{hashlib.sha256(text.encode()).hexdigest()[:16]}")
    return {"outputs": outputs}


def main() -> int:
    from plugins.melnet.plugin import MelNetRenderer
    from plugins.music_transformer.plugin import MusicTransformerModel
    from plugins.separation.plugin import StemSeparator
    from plugins.vocal_tts.plugin import VocalLine
    from plugins.wavenet.plugin import WaveNetTexture

    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        notes = [Note(*MELODY[i : i + 4]) for i in range(0, len(MELODY), 4)]
        write_smf(work / "melody.mid", notes)
        rng = np.random.default_rng(0)
        t = np.arange(2 * 22050) / 22050
        song = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size)
        soundfile.write(work / "song.wav", np.stack([song, song * 0.8], 1), 22050)
        cases = [
            (
                "music-transformer",
                MusicTransformerModel,
                "continue",
                [
                    {"inputs": {"primer": MELODY}, "options": {"bars": 2}, "seed": 7},
                    {
                        "inputs": {"primer": "melody.mid"},
                        "options": {"bars": 1, "variations": 2, "quantize": "1/8", "chunk": "bar"},
                        "seed": 3,
                    },
                ],
            ),
            (
                "melnet",
                MelNetRenderer,
                "render",
                [
                    {"inputs": {"notes": MELODY}, "options": {"bars": 1, "tempo": 150}, "seed": 5},
                    {
                        "inputs": {"notes": "melody.mid"},
                        "options": {"bars": 1, "vocoder": "griffin-lim"},
                        "seed": 5,
                    },
                    {"inputs": {"notes": MELODY}, "options": {"bars": 1, "tempo": 10}, "seed": 5},
                    {
                        "inputs": {"notes": MELODY},
                        "options": {"bars": 1, "tempo": 240, "vocoder": "wavenet"},
                        "seed": 6,
                    },
                ],
            ),
            (
                "vocal-tts",
                VocalLine,
                "sing",
                [
                    {
                        "inputs": {"lyrics": "hello there my friend", "notes": MELODY},
                        "options": {"bars": 2},
                        "seed": 1,
                    },
                    {
                        "inputs": {"lyrics": "sing a song", "notes": "melody.mid"},
                        "options": {"bars": 2, "tempo": 100, "voice": "male"},
                        "seed": 2,
                    },
                    {
                        "inputs": {"lyrics": "la la", "notes": MELODY[:8]},
                        "options": {"bars": 1, "tempo": 240, "vocoder": "wavenet"},
                        "seed": 2,
                    },
                ],
            ),
            (
                "vocal-tts-speak",
                VocalLine,
                "speak",
                [
                    {"inputs": {"lyrics": "one two three four"}, "options": {"bars": 1}, "seed": 1},
                ],
            ),
            (
                "separation",
                StemSeparator,
                "separate",
                [
                    {"inputs": {"audio": "song.wav"}, "options": {}, "seed": 0},
                ],
            ),
            (
                "wavenet-texture",
                WaveNetTexture,
                "render",
                [
                    {"inputs": {}, "options": {"bars": 1, "tempo": 240}, "seed": 4},
                ],
            ),
        ]
        for name, cls, verb, requests in cases:
            model = cls()
            runs = run_requests(work, model, verb, *requests, timeout=600)
            results[name] = [digest(events) for events in runs]
            print(name, "done", file=sys.stderr)
    print(json.dumps(results, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
