#!/bin/sh
# Installs the Debian packages dawhost needs (JACK for virtual MIDI ports without an ALSA
# sequencer, FluidSynth and soundfonts for training data, espeak-ng, Festival (with the HTS
# voice festvox-us-slt-hts), flite and sox for speech (vocal-tts teachers),
# chromium for browser tests). Installs as root; otherwise says what is missing.
set -e
PACKAGES="jackd2 fluidsynth timgm6mb-soundfont fluid-soundfont-gm musescore-general-soundfont-small \
musescore-general-soundfont csound-soundfont opl3-soundfont hydrogen-drumkits espeak-ng festival festvox-us-slt-hts flite sox libsndfile1 chromium"
missing=""
for pkg in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing system packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
    echo "setup: missing system packages:$missing" >&2
    echo "setup: install them with: sudo apt-get install --no-install-recommends$missing" >&2
    echo "setup: (or on macOS: brew install fluid-synth espeak-ng sox; MIDI uses CoreMIDI)" >&2
fi
