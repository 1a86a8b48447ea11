"""The Music Transformer accepts every option value its schema declares."""

from pathlib import Path

from plugins.music_transformer.plugin import MusicTransformerModel
from tests.schema_checks import assert_schema_holds

PRIMER = [60, 82, 0, 1, 62, 82, 1, 1, 64, 82, 2, 1, 65, 82, 3, 1]


def test_music_transformer_accepts_its_whole_schema(tmp_path: Path, tiny_checkpoint: Path) -> None:
    model = MusicTransformerModel()
    model.checkpoint = tiny_checkpoint
    assert_schema_holds(tmp_path, model, "continue", {"primer": PRIMER})
