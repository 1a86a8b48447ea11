"""The transcriber accepts every option value its schema declares."""

from pathlib import Path

from plugins.transcribe.plugin import NoteTranscriber
from tests.schema_checks import assert_schema_holds


def test_transcribe_accepts_its_whole_schema(
    tmp_path: Path, tiny_checkpoint: Path, stereo_wav: Path
) -> None:
    model = NoteTranscriber()
    model.checkpoint = tiny_checkpoint
    assert_schema_holds(tmp_path, model, "transcribe", {"audio": str(stereo_wav)})
