"""The sentence set: English prose found on this machine, split into train/validation/test.

Sources (all installed with the OS or Python, no download): the licence texts in
/usr/share/common-licenses, README/text files in /usr/share/doc, and docstrings and comments
of the Python standard library. Only plain sentences of 4-14 words made of letters, commas
and apostrophes are kept. The split is by a hash of the sentence text, so it is stable.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import os
import re
import sys
from pathlib import Path

_SENTENCE = re.compile(r"[A-Z][a-z ,']+[.!?]")


def _texts() -> list[str]:
    paths = sorted(glob.glob("/usr/share/common-licenses/*"))
    paths += sorted(glob.glob("/usr/share/doc/*/README*") + glob.glob("/usr/share/doc/*/*.txt"))
    stdlib = Path(os.__file__).parent
    paths += sorted(str(p) for p in stdlib.rglob("*.py") if "site-packages" not in p.parts)
    texts = []
    for path in paths:
        if not os.path.isfile(path):
            continue
        try:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt", errors="ignore") as handle:  # type: ignore[operator]
                texts.append(handle.read())
        except OSError:
            continue
    return texts


def sentences() -> list[str]:
    """All usable sentences, sorted."""
    found: set[str] = set()
    for text in _texts():
        for piece in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", text)):
            piece = piece.strip().lstrip("#\"' ")
            if _SENTENCE.fullmatch(piece) and 4 <= len(piece.split()) <= 14:
                found.add(piece)
    return sorted(found)


def split_of(sentence: str) -> str:
    """'test' (3 %), 'validation' (2 %) or 'train'."""
    bucket = int(hashlib.sha256(sentence.encode()).hexdigest()[:8], 16) % 100
    return "test" if bucket < 3 else "validation" if bucket < 5 else "train"


def split(items: list[str]) -> dict[str, list[str]]:
    parts: dict[str, list[str]] = {"train": [], "validation": [], "test": []}
    for item in items:
        parts[split_of(item)].append(item)
    return parts


if __name__ == "__main__":  # pragma: no cover - a quick look at the corpus
    parts = split(sentences())
    print({name: len(items) for name, items in parts.items()}, sys.version)
