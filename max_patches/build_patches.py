"""Writes the dawhost Max patches (.maxpat, Max 8/9 JSON) in this folder.

Run `python max_patches/build_patches.py` after editing; the .maxpat files are committed too, so
Max users never need Python. The patcher library is `builder/patcher.py`, the blocks the
patches share `builder/blocks.py`, and each patch has its own module in `builder/`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere

from builder import (  # noqa: E402
    analyze,
    continue_midi,
    devices,
    overview,
    render_audio,
    separate_stems,
    sing,
    transcribe,
    transport,
)
from builder.patcher import PACKAGE, Patcher, write, write_device  # noqa: E402

PATCHES: dict[str, Callable[[], Patcher]] = {
    "dawhost_overview.maxpat": overview.overview,
    "dawhost_continue_midi.maxpat": continue_midi.continue_midi,
    "dawhost_render_audio.maxpat": render_audio.render_audio,
    "dawhost_sing.maxpat": sing.sing,
    "dawhost_separate_stems.maxpat": separate_stems.separate_stems,
    "dawhost_transport.maxpat": transport.transport_sender,
    "dawhost_transcribe.maxpat": transcribe.transcribe,
    "dawhost_analyze.maxpat": analyze.analyze,
}


PACKAGE_INFO = {
    "name": "dawhost",
    "displayname": "dawhost",
    "version": "0.1.0",
    "author": "dawhost",
    "description": "Patches and Max for Live devices that talk to a running dawhost server "
    "(deep-learning music models) over OSC: continue a phrase in time, render, sing, separate "
    "stems, follow the transport. Needs `dawhost serve`; uses only Max's built-in objects.",
    "tags": ["OSC", "MIDI", "machine learning", "Max for Live"],
    "website": "",
    "extensible": 0,
    "max_version_min": "8.0",
    "os": {"macintosh": {"platform": ["ia64", "aarch64"]}, "windows": {"platform": ["x64"]}},
    "homepatcher": "dawhost_overview.maxpat",
}


def main() -> None:
    for name, build in PATCHES.items():
        print(write(build(), name))
    for name, (build_device, kind, width) in devices.DEVICES.items():
        print(write_device(build_device(), name, kind, width))
    info = PACKAGE / "package-info.json"
    info.write_text(json.dumps(PACKAGE_INFO, indent=1) + "\n")
    print(info)


if __name__ == "__main__":
    main()
