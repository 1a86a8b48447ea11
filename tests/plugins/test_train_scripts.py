"""Every plugin's train script takes the shared budget flags: --minutes, --max-steps and
--save-every in minutes. (Each script's own tests train a tiny model for a few steps.)"""

from __future__ import annotations

import importlib
import re

import pytest

TRAIN_SCRIPTS = [
    "plugins.analyze.train",
    "plugins.music_transformer.train",
    "plugins.melnet.train",
    "plugins.melnet.train_vocoder",
    "plugins.separation.train",
    "plugins.transcribe.train",
    "plugins.vocal_tts.train",
    "plugins.wavenet.train",
]


@pytest.mark.parametrize("module", TRAIN_SCRIPTS)
def test_save_every_is_minutes_in_every_train_script(
    module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main = importlib.import_module(module).main
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert re.search(r"--save-every SAVE_EVERY(, --[a-z-]+ SAVE_EVERY)? minutes", text), text
    assert "--minutes" in text
