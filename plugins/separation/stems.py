"""Facts every part of the separation plugin shares: stem names, the internal STFT, soundfonts."""

from __future__ import annotations

from pathlib import Path

STEMS: tuple[str, ...] = ("vocals", "drums", "bass", "other")

# The network sees 11.025 kHz audio (bins of 21.5 Hz up to 5.5 kHz, 43 frames a second): 8x
# fewer STFT pixels than 44.1 kHz with a 75%-overlap 2048-point STFT. Two cores shared by a
# whole team leave about a quarter of a core for training, so this is what fits an hour.
# Masks are carried back to the input's own rate and STFT (spectral.masks_at_rate); above
# 5.5 kHz each stem keeps the share it has at the top of the internal band.
INTERNAL_RATE = 11_025
N_FFT = 512
HOP = 256
N_BINS = 256  # bins 0..255 (the Nyquist bin is dropped)

SOUNDFONT_DIRS = (Path("/usr/share/sounds/sf2"), Path("/usr/share/sounds/sf3"))
TRAIN_SOUNDFONTS = ("FluidR3_GM.sf2", "MuseScore_General_Lite.sf3")
HELD_OUT_SOUNDFONT = "TimGM6mb.sf2"  # never used in training; half of the test set uses it


def soundfont_path(name: str) -> Path:
    """Where a Debian-packaged soundfont lives; a clear error names the package if missing."""
    for folder in SOUNDFONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    packages = {
        "FluidR3_GM.sf2": "fluid-soundfont-gm",
        "MuseScore_General_Lite.sf3": "musescore-general-soundfont-small",
        "TimGM6mb.sf2": "timgm6mb-soundfont",
        "MuseScore_General_Full.sf3": "musescore-general-soundfont",
        "sf_GMbank.sf2": "csound-soundfont",
        "OPL-3_FM_128M.sf2": "opl3-soundfont",
    }
    raise FileNotFoundError(
        f"soundfont {name} not found; install the Debian package "
        f"{packages.get(name, '(a General MIDI soundfont)')}"
    )
