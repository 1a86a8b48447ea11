"""vocal-tts accepts every option value its schema declares, singing and speaking."""

from pathlib import Path

import pytest

from plugins.vocal_tts.plugin import VocalLine
from tests.schema_checks import assert_schema_holds

# A note in every bar a request can reach (start_bar up to 9999, then up to 32 bars), so that
# every `bars` and `start_bar` value has a note for the one syllable (the melody is input).
MELODY = [v for bar in range(9999 + 32) for v in (64, 100, bar * 4.0, 2.0)]
LYRICS = "la"


@pytest.mark.parametrize("verb", ["sing", "speak"])
def test_vocal_tts_accepts_its_whole_schema(
    tmp_path: Path, tiny_checkpoint: Path, verb: str
) -> None:
    model = VocalLine()
    model.checkpoint = tiny_checkpoint
    inputs = {"lyrics": LYRICS, "notes": MELODY} if verb == "sing" else {"lyrics": "la la la"}
    assert_schema_holds(tmp_path, model, verb, inputs)


def test_the_declared_length_limit_is_the_synthesiser_s() -> None:
    from plugins.vocal_tts import plugin, synthesis

    assert plugin.MAX_SECONDS == synthesis.MAX_SECONDS
    assert plugin.VocalLineOptions.max_seconds == synthesis.MAX_SECONDS
