"""The analyzer accepts every option value its schema declares."""

from pathlib import Path

from plugins.analyze.plugin import BeatAnalyzer
from tests.schema_checks import assert_schema_holds


def test_analyze_accepts_its_whole_schema(
    tmp_path: Path, tiny_checkpoint: Path, click_wav: Path
) -> None:
    model = BeatAnalyzer()
    model.checkpoint = tiny_checkpoint
    assert_schema_holds(tmp_path, model, "analyze", {"audio": str(click_wav)})
