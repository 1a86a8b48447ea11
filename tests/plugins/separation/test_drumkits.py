"""Hydrogen drum kits: instruments are found by name in both drumkit.xml layouts (layers with
velocity ranges, or one file per instrument), mapped to General MIDI keys, and a drum part
puts each hit's sample at its time, louder for a higher velocity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from plugins.separation import drumkits
from plugins.separation.arrangement import HAT, KICK, SNARE, Event, Part

RATE = 8000

KIT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">
 <name>Test</name>
 <instrumentList>
  <instrument><id>0</id><name>Kick Hard</name><volume>1</volume><pan_L>1</pan_L><pan_R>1</pan_R>
   <layer><filename>kick_soft.wav</filename><min>0</min><max>0.5</max></layer>
   <layer><filename>kick_hard.wav</filename><min>0.5</min><max>1</max></layer>
  </instrument>
  <instrument><id>1</id><filename>snare.wav</filename><name>Snare Rock</name>
   <volume>0.5</volume><pan_L>1</pan_L><pan_R>0.5</pan_R></instrument>
  <instrument><id>2</id><filename>hat.wav</filename><name>Closed HH</name>
   <volume>1</volume><pan_L>1</pan_L><pan_R>1</pan_R></instrument>
 </instrumentList>
</drumkit_info>
"""


@pytest.fixture
def kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    folder = tmp_path / "Test"
    folder.mkdir()
    (folder / "drumkit.xml").write_text(KIT_XML)
    for name, value in (("kick_soft", 0.1), ("kick_hard", 0.9), ("snare", 0.5), ("hat", 0.3)):
        soundfile.write(folder / f"{name}.wav", np.full(800, value, np.float32), 16000)
    (tmp_path / "NoKit").mkdir()  # a folder without drumkit.xml is not a kit
    monkeypatch.setattr(drumkits, "KIT_DIR", tmp_path)
    drumkits.kit_mapping.cache_clear()
    return "Test"


def test_kit_maps_names_to_general_midi(kit: str) -> None:
    mapping = drumkits.kit_mapping(drumkits.KIT_DIR / kit)
    assert mapping[KICK].name == "Kick Hard" and len(mapping[KICK].layers) == 2
    assert mapping[SNARE].pan == (1.0, 0.5)
    assert mapping[HAT].name == "Closed HH"
    assert drumkits.available_kits(drumkits.KIT_DIR) == ["Test"]


def test_hits_land_at_their_time_with_their_layer(kit: str) -> None:
    part = Part(
        "drums",
        0,
        [Event(0.0, 0.2, KICK, 30), Event(1.0, 0.2, KICK, 120), Event(2.0, 0.2, SNARE, 127)],
        drums=True,
    )
    audio = drumkits.render_drums(kit, part, tempo=60.0, frames=3 * RATE, rate=RATE)
    assert audio.shape == (3 * RATE, 2)
    soft, hard = audio[100, 0], audio[RATE + 100, 0]
    assert 0 < soft < 0.1 and hard > 0.5  # the soft and the hard layer, scaled by velocity
    assert not np.any(audio[RATE // 2 : RATE - 1])  # silence between hits (400-frame samples)
    snare = audio[2 * RATE + 100]
    assert snare[1] == pytest.approx(snare[0] * 0.5, rel=1e-4)  # the kit's own pan


def test_installed_kits_can_play_a_groove() -> None:
    kits = drumkits.available_kits()
    if not kits:
        pytest.skip("hydrogen-drumkits is not installed")
    drumkits.kit_mapping.cache_clear()
    mapping = drumkits.kit_mapping(drumkits.KIT_DIR / kits[0])
    assert all(key in mapping for key in drumkits.NEEDED)
