"""wavenet-texture accepts every option value its schema declares."""

from pathlib import Path

from plugins.wavenet.plugin import WaveNetTexture
from tests.schema_checks import assert_schema_holds


def test_wavenet_texture_accepts_its_whole_schema(tmp_path: Path, tiny_checkpoint: Path) -> None:
    model = WaveNetTexture()
    model.checkpoint = tiny_checkpoint
    assert_schema_holds(tmp_path, model, "render", {})
