"""The separator accepts every option value its schema declares."""

from pathlib import Path

from plugins.separation.plugin import StemSeparator
from tests.schema_checks import assert_schema_holds


def test_separation_accepts_its_whole_schema(
    tmp_path: Path, tiny_checkpoint: Path, song_file: Path
) -> None:
    model = StemSeparator()
    model.checkpoint = tiny_checkpoint
    assert_schema_holds(tmp_path, model, "separate", {"audio": str(song_file)})
