"""Writes the dawhost Max patches (.maxpat, Max 8/9 JSON) in this folder.

Run `python max_patches/build_patches.py` after editing; the .maxpat files are committed too, so
Max users never need Python. The patcher library is `builder/patcher.py`, the blocks the
patches share `builder/blocks.py`, and each patch has its own module in `builder/`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere

from builder import (  # noqa: E402
    continue_midi,
    overview,
    render_audio,
    separate_stems,
    sing,
    transport,
)
from builder.patcher import Patcher, write  # noqa: E402

PATCHES: dict[str, Callable[[], Patcher]] = {
    "dawhost_overview.maxpat": overview.overview,
    "dawhost_continue_midi.maxpat": continue_midi.continue_midi,
    "dawhost_render_audio.maxpat": render_audio.render_audio,
    "dawhost_sing.maxpat": sing.sing,
    "dawhost_separate_stems.maxpat": separate_stems.separate_stems,
    "dawhost_transport.maxpat": transport.transport_sender,
}


def main() -> None:
    for name, build in PATCHES.items():
        print(write(build(), name))


if __name__ == "__main__":
    main()
