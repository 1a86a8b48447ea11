"""The Max patches are valid Max patchers: known objects with the right inlets and outlets,
connections between existing boxes and ports, instructions in comments, default ports, and
every OSC message they send worked out down to its argument types."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from host.config import ServerConfig
from tests.clients.max_patch import (
    MAX_UI,
    PACKAGE_FOLDER,
    PATCH_FOLDER,
    SIGNAL_INLETS,
    Patch,
    all_patches,
    expected_ports,
    read_device,
    tokens,
)

PATCHES = all_patches()
EXPECTED = {
    "dawhost_overview.maxpat",
    "dawhost_continue_midi.maxpat",
    "dawhost_render_audio.maxpat",
    "dawhost_sing.maxpat",
    "dawhost_separate_stems.maxpat",
    "dawhost_transport.maxpat",
    "dawhost_transcribe.maxpat",
    "dawhost_analyze.maxpat",
    "dawhost Continue.amxd",
    "dawhost Render.amxd",
    "dawhost Separate.amxd",
}


def ids(path: Path) -> str:
    return path.stem


def test_every_capability_has_a_patch() -> None:
    assert {p.name for p in PATCHES} == EXPECTED


_no_cache = shutil.ignore_patterns("__pycache__")


def test_committed_patches_are_what_the_generator_writes(tmp_path: Path) -> None:
    # The generator writes next to itself: run a copy in a scratch folder and compare.
    script = tmp_path / "build_patches.py"
    builder = PACKAGE_FOLDER.parent / "builder"
    script.write_text((PACKAGE_FOLDER.parent / "build_patches.py").read_text())
    shutil.copytree(builder, tmp_path / "builder", ignore=_no_cache)
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True)
    for path in [*PATCHES, PACKAGE_FOLDER / "package-info.json"]:
        built = tmp_path / "dawhost" / path.relative_to(PACKAGE_FOLDER)
        assert built.read_bytes() == path.read_bytes(), (
            f"{path.name} is stale: run python max_patches/build_patches.py"
        )


@pytest.mark.parametrize("path", PATCHES, ids=ids)
def test_patch_is_a_max_patcher(path: Path) -> None:
    patcher = Patch(path).data["patcher"]
    assert patcher["fileversion"] == 1 and patcher["appversion"]["major"] >= 8
    assert patcher["classnamespace"] == "box" and len(patcher["rect"]) == 4
    seen = set()
    for entry in patcher["boxes"]:
        box = entry["box"]
        assert box["id"] not in seen, f"duplicate box id {box['id']}"
        seen.add(box["id"])
        assert box["maxclass"] == "newobj" or box["maxclass"] in MAX_UI, box
        rect = box["patching_rect"]
        assert len(rect) == 4 and rect[2] > 0 and rect[3] > 0, box
        inlets, outlets = expected_ports(box)
        where = f"[{box.get('text', box['maxclass'])}] in {path.name}"
        assert box["numinlets"] == inlets, f"{where}: Max gives it {inlets} inlets"
        assert box["numoutlets"] == outlets, f"{where}: Max gives it {outlets} outlets"
        assert len(box.get("outlettype", [])) == outlets, where
        if box["maxclass"] in ("newobj", "message", "comment"):
            assert isinstance(box["text"], str)


@pytest.mark.parametrize("path", PATCHES, ids=ids)
def test_connections_join_existing_outlets_to_existing_inlets(path: Path) -> None:
    patch = Patch(path)
    assert patch.lines, "a patch without connections does nothing"
    assert len(set(map(str, patch.lines))) == len(patch.lines), "duplicate connection"
    for (source, outlet), (destination, inlet) in patch.lines:
        assert source in patch.boxes and destination in patch.boxes, (source, destination)
        src, dst = patch.boxes[source], patch.boxes[destination]
        assert 0 <= outlet < src["numoutlets"], f"[{src.get('text')}] has no outlet {outlet}"
        assert 0 <= inlet < dst["numinlets"], f"[{dst.get('text')}] has no inlet {inlet}"
        if src["outlettype"][outlet] == "signal":
            name = dst["maxclass"] if dst["maxclass"] != "newobj" else dst["text"].split()[0]
            assert name in SIGNAL_INLETS, f"audio from [{src['text']}] into [{name}]"


@pytest.mark.parametrize("path", PATCHES, ids=ids)
def test_every_box_is_wired_and_comments_say_what_to_click(path: Path) -> None:
    patch = Patch(path)
    wired = {s[0] for s, _ in patch.lines} | {d[0] for _, d in patch.lines}
    loose = [
        b.get("text") or b["maxclass"]
        for b in patch.boxes.values()
        if b["maxclass"] not in ("comment", "panel") and b["id"] not in wired
    ]
    assert not loose, f"boxes connected to nothing: {loose}"
    words = " ".join(patch.comments()).lower()
    assert "click" in words and "dawhost" in words
    assert "dawhost serve" in words  # how to start what the patch talks to


@pytest.mark.parametrize("path", PATCHES, ids=ids)
def test_ports_are_the_server_defaults(path: Path) -> None:
    defaults = ServerConfig()
    patch = Patch(path)
    (send,) = patch.objects("udpsend")
    assert tokens(send["text"])[1:] == ["127.0.0.1", str(defaults.osc_port)]
    (receive,) = patch.objects("udpreceive")
    assert tokens(receive["text"])[1:] == [str(defaults.reply_port)]
    # The port registered with /dawhost/reply on load is the one [udpreceive] listens on.
    registrations = [m for m in patch.sent_messages() if m.address == "/dawhost/reply"]
    assert len(registrations) == 1 and [a.type for a in registrations[0].args] == ["i"]
    loaders = [
        tokens(b["text"])[1:]
        for b in patch.objects("loadmess")
        if b["id"] in _feeding(patch, "/dawhost/reply")
    ]
    assert [str(defaults.reply_port)] in loaders
    # ... and re-registered every few seconds, so a restarted server still answers.
    metros = [b for b in patch.objects("metro") if b["id"] in _feeding(patch, "/dawhost/reply")]
    assert [tokens(b["text"])[1:] for b in metros] == [["3000"]]


def _feeding(patch: Patch, address: str) -> set[str]:
    """Ids of every box upstream of the message box that sends `address`."""
    (target,) = [
        b["id"]
        for b in patch.boxes.values()
        if b["maxclass"] == "message" and b["text"].startswith(address + " ")
    ]
    seen, todo = set(), [target]
    while todo:
        box = todo.pop()
        for (source, _), (destination, _) in patch.lines:
            if destination == box and source not in seen:
                seen.add(source)
                todo.append(source)
    return seen


@pytest.mark.parametrize("path", PATCHES, ids=ids)
def test_every_sent_message_is_an_osc_address_with_known_argument_types(path: Path) -> None:
    patch = Patch(path)
    sent = patch.sent_messages()  # raises CannotInfer when a $N has no typed source
    assert sent
    for message in sent:
        assert message.address.startswith("/dawhost/"), message
        assert all(atom.type in "ifs" for atom in message.args), message
    # Every message box that spells an OSC address is wired to the udpsend.
    spelled = {
        b["id"]
        for b in patch.boxes.values()
        if b["maxclass"] == "message" and b["text"].startswith("/")
    }
    assert spelled <= {m.box for m in sent}


def test_the_transport_patch_reports_max_transport_in_one_sync_message() -> None:
    sent = Patch(PATCH_FOLDER / "dawhost_transport.maxpat").sent_messages()
    shapes = {m.address: "".join(a.type for a in m.args) for m in sent}
    assert shapes == {
        "/dawhost/reply": "i",
        "/dawhost/transport/sync": "ffiii",  # tempo, beat, state, numerator, denominator
        "/dawhost/transport": "",
    }


def test_no_option_range_or_model_list_is_copied_into_the_builder() -> None:
    """Ranges come from /dawhost/<model>/options, model lists from /dawhost/models <cap>."""
    for path in PATCHES:
        patch = Patch(path)
        for box in patch.boxes.values():
            if box["maxclass"] in ("number", "flonum") and "minimum" in box:
                assert box["id"] in _feeding_any(patch, ("/dawhost/reply", "/dawhost/models"))
        menus = [b for b in patch.boxes.values() if b["maxclass"] == "umenu"]
        for menu in menus:
            assert len(menu.get("items", [])) <= 1  # the default only, until the server answers
    capabilities = {
        "dawhost_continue_midi.maxpat": "continue_midi",
        "dawhost_render_audio.maxpat": "render_audio",
        "dawhost_sing.maxpat": "sing",
        "dawhost_separate_stems.maxpat": "separate_stems",
    }
    for name, capability in capabilities.items():
        addresses = {m.address for m in Patch(PATCH_FOLDER / name).sent_messages()}
        asks = [
            m for m in Patch(PATCH_FOLDER / name).sent_messages() if m.address == "/dawhost/models"
        ]
        assert [[a.value for a in m.args] for m in asks] == [[capability]], name
        assert "/dawhost/%s/options" in addresses, name


def _feeding_any(patch: Patch, addresses: tuple[str, ...]) -> set[str]:
    found: set[str] = set()
    for address in addresses:
        try:
            found |= _feeding(patch, address)
        except ValueError:
            pass
    return found


@pytest.mark.parametrize("path", PATCHES, ids=ids)
def test_boxes_do_not_overlap(path: Path) -> None:
    # A person reads these patches: no box may hide another.
    boxes = list(Patch(path).boxes.values())
    clashes = []
    for index, a in enumerate(boxes):
        ax, ay, aw, ah = a["patching_rect"]
        for b in boxes[index + 1 :]:
            bx, by, bw, bh = b["patching_rect"]
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                clashes.append((a.get("text") or a["maxclass"], b.get("text") or b["maxclass"]))
    assert not clashes


DEVICES = {
    "dawhost Continue.amxd": "midi effect",
    "dawhost Render.amxd": "instrument",
    "dawhost Separate.amxd": "audio effect",
}


@pytest.mark.parametrize("name", sorted(DEVICES))
def test_devices_are_max_for_live_containers_of_their_type(name: str) -> None:
    patch = Patch(PACKAGE_FOLDER / "devices" / name)
    assert patch.device_type == DEVICES[name]
    patcher = patch.data["patcher"]
    assert patcher["openinpresentation"] == 1 and patcher["devicewidth"] > 0
    shown = [b for b in patch.boxes.values() if b.get("presentation") == 1]
    assert any(b["maxclass"] == "button" for b in shown)  # something to click in the strip
    assert any(b["maxclass"] == "umenu" for b in shown)
    for box in shown:
        assert len(box["presentation_rect"]) == 4
    names = {b["text"].split()[0] for b in patch.boxes.values() if b["maxclass"] == "newobj"}
    if DEVICES[name] == "midi effect":
        assert {"midiin", "midiout", "notein", "noteout"} <= names  # the track's MIDI passes
    else:
        assert "plugout~" in names  # what it plays reaches Live
    if DEVICES[name] == "audio effect":
        assert "plugin~" in names
    # Buffers are per device instance (Live's --- prefix), so two devices do not share one.
    for buffer in patch.objects("buffer~"):
        assert tokens(buffer["text"])[1].startswith("---")


def test_the_device_reader_refuses_what_is_not_a_device(tmp_path: Path) -> None:
    good = (PACKAGE_FOLDER / "devices" / "dawhost Continue.amxd").read_bytes()
    cases = {
        b"ampx" + good[4:]: "ampf",
        good[:8] + b"xxxx" + good[12:]: "device type",
        good[:-1] + b" ": "NUL",
        good[:40]: "past the end",
    }
    for data, problem in cases.items():
        with pytest.raises(ValueError, match=problem):
            read_device(data)


def test_the_package_is_a_max_package() -> None:
    info = json.loads((PACKAGE_FOLDER / "package-info.json").read_text())
    assert info["name"] == PACKAGE_FOLDER.name == "dawhost"
    assert {"displayname", "version", "author", "description"} <= set(info)
    assert (PACKAGE_FOLDER / "patchers" / info["homepatcher"]).is_file()
    assert {p.parent.name for p in PATCHES} == {"patchers", "devices"}
