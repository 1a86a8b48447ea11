"""melnet accepts every option value its schema declares (OSCQuery, CLI and CC offer them)."""

from pathlib import Path

from plugins.melnet.plugin import MelNetRenderer
from tests.schema_checks import assert_schema_holds


def test_melnet_accepts_its_whole_schema(tmp_path: Path, tiny_checkpoint: Path) -> None:
    model = MelNetRenderer()
    model.checkpoint = tiny_checkpoint
    notes = [60, 100, 0, 1, 64, 100, 1, 1, 67, 100, 2, 2]
    assert_schema_holds(tmp_path, model, "render", {"notes": notes})
