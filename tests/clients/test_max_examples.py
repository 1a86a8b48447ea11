"""The request examples shipped in the patches and devices work with the real models they
name: the sing examples' lyrics fit their melodies (vocal-tts sings one syllable per note; the
old example had five syllables on four notes and always failed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from host.requests import Done
from plugins.vocal_tts.plugin import VocalLine
from tests.clients.max_patch import Patch, all_patches, tokens
from tests.fakes import run_requests


def sing_examples() -> list[tuple[str, str]]:
    return [
        (path.name, box["text"])
        for path in all_patches()
        for box in Patch(path).boxes.values()
        if box["maxclass"] == "message" and box["text"].startswith("$1 lyrics")
    ]


def test_every_sing_example_is_found() -> None:
    assert {name for name, _ in sing_examples()} == {"dawhost_sing.maxpat", "dawhost Render.amxd"}


@pytest.mark.parametrize("name,text", sing_examples(), ids=[n for n, _ in sing_examples()])
def test_sing_example_sings_with_vocal_tts(name: str, text: str, tmp_path: Path) -> None:
    atoms = tokens(text)
    lyrics = atoms[atoms.index("lyrics") + 1]
    numbers = [float(a) for a in atoms[atoms.index("notes") + 1 : atoms.index("bars")]]
    notes = [numbers[i : i + 4] for i in range(0, len(numbers), 4)]
    voice = atoms[atoms.index("voice") + 1]
    # bars $2 is the number box, which the patch sets to the model's default: leave it out.
    (events,) = run_requests(
        tmp_path,
        VocalLine(),
        "sing",
        {"inputs": {"lyrics": lyrics, "notes": notes}, "options": {"voice": voice}},
        timeout=120,
    )
    assert isinstance(events[-1], Done), events[-1]
