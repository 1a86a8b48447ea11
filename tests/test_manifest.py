"""The shipped plugin_manifest.toml and the registered plugins agree."""

from __future__ import annotations

import re

import pytest

from host.config import DEFAULT_MANIFEST, Manifest
from host.plugins import PluginHost

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def plugin_host() -> PluginHost:
    return PluginHost(Manifest.load(DEFAULT_MANIFEST), entry_points=False)


def test_every_builtin_plugin_loads(plugin_host: PluginHost) -> None:
    assert plugin_host.failures == []


def test_every_manifest_model_section_names_a_registered_model(plugin_host: PluginHost) -> None:
    models = plugin_host.models()  # also validates manifest defaults against Options
    assert set(plugin_host.manifest.models) <= set(models)


def test_models_follow_the_contract(plugin_host: PluginHost) -> None:
    for model_id, model in plugin_host.models().items():
        assert KEBAB.match(model_id), model_id
        assert model.capabilities, model_id
        info = model.describe()
        assert all(option["description"] for option in info["options"]), model_id
        assert not model.loaded, f"{model_id} loaded weights at import time"
        settings = plugin_host.manifest.models.get(model_id)
        if settings and settings.checkpoint:
            assert settings.checkpoint.is_file(), f"{model_id}: no {settings.checkpoint}"


def test_builtin_frontends_register(plugin_host: PluginHost) -> None:
    names = {frontend.name for frontend in plugin_host.frontends()}
    assert {"osc", "websocket", "midi"} <= names
