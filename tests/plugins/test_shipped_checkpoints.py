"""Every shipped checkpoint loads through its model's own loader, from the manifest's path and
from the model's default (they name the same file), and the plugin's training and evaluation
code finds the same file under its DEFAULT_CHECKPOINT. (What the weights generate is compared
before and after a change by scripts/generation_digest.py.)"""

from __future__ import annotations

import importlib

import pytest

from host.config import DEFAULT_MANIFEST, Manifest
from host.plugins import PluginHost

# Where each plugin's training code keeps the path it writes by default.
TRAINING_DEFAULTS = {
    "analyze": "plugins.analyze.checkpoint",
    "music-transformer": "plugins.music_transformer.checkpoint",
    "melnet": "plugins.melnet.train",
    "separation": "plugins.separation.checkpoint",
    "transcribe": "plugins.transcribe.checkpoint",
    "vocal-tts": "plugins.vocal_tts.checkpoint",
    "wavenet-texture": "plugins.wavenet.checkpoint",
}


@pytest.fixture(scope="module")
def plugin_host() -> PluginHost:
    return PluginHost(Manifest.load(DEFAULT_MANIFEST), entry_points=False)


@pytest.mark.parametrize("model_id", sorted(TRAINING_DEFAULTS))
def test_the_shipped_checkpoint_loads_from_the_manifest_and_by_default(
    plugin_host: PluginHost, model_id: str
) -> None:
    model = plugin_host.models()[model_id]
    default = type(model).default_checkpoint
    assert default is not None and default.is_file()
    assert model.checkpoint is not None and model.checkpoint.resolve() == default
    trained = importlib.import_module(TRAINING_DEFAULTS[model_id]).DEFAULT_CHECKPOINT
    assert trained.resolve() == default
    model.ensure_loaded()
    assert model.loaded
    fresh = type(model)()  # no manifest: the default is loaded
    assert fresh.checkpoint is None and fresh.checkpoint_file == default
    fresh.ensure_loaded()
    assert fresh.loaded


def test_the_vocal_tts_voice_option_lists_exactly_the_shipped_checkpoints_voices() -> None:
    """The option offers no voice the default model would refuse, and hides none it has."""
    from plugins.vocal_tts.checkpoint import DEFAULT_CHECKPOINT, load, voices_of
    from plugins.vocal_tts.voices import SHIPPED_VOICES

    assert voices_of(load(DEFAULT_CHECKPOINT)) == list(SHIPPED_VOICES)
