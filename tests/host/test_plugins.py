"""Discovery through the manifest and entry points, broken plugins, duplicates, disabling."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from host.config import Manifest, ModelSettings, PluginEntry
from host.errors import DawhostError
from host.plugins import DuplicateModelError, PluginHost
from tests.fakes import EchoContinuer, FakePlugin

GOOD_PLUGIN = """
import host
from tests.fakes import SineRenderer

class Hummer(SineRenderer):
    model_id = "ep-hummer"

@host.hookimpl
def register_models():
    yield Hummer()
"""


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed distribution with one good and one broken `dawhost` entry point."""
    site = tmp_path / "site"
    info = site / "fakedist-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakedist\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[dawhost]\ngood = fake_good_plugin\nbroken = fake_broken_plugin\n"
    )
    (site / "fake_good_plugin.py").write_text(GOOD_PLUGIN)
    (site / "fake_broken_plugin.py").write_text("import a_module_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(site))
    return site


def test_manifest_and_entry_points_load_through_one_path(fake_distribution: Path) -> None:
    manifest = Manifest((PluginEntry("fakes", "tests.fakes"),), {})
    plugin_host = PluginHost(manifest)
    models = plugin_host.models()
    assert {"fake-echo", "fake-sine", "ep-hummer"} <= set(models)
    broken = [f for f in plugin_host.failures if f.plugin == "broken"]
    assert len(broken) == 1
    assert "a_module_that_does_not_exist" in broken[0].reason
    assert "fake_broken_plugin" in broken[0].source


def test_broken_manifest_plugin_is_reported_and_others_load() -> None:
    manifest = Manifest(
        (PluginEntry("missing", "plugins.no_such_plugin"), PluginEntry("fakes", "tests.fakes")),
        {},
    )
    plugin_host = PluginHost(manifest, entry_points=False)
    assert "fake-echo" in plugin_host.models()
    assert [f.plugin for f in plugin_host.failures] == ["missing"]
    assert "No module named" in plugin_host.failures[0].reason


def test_duplicate_model_ids_name_both_providers() -> None:
    plugin_host = PluginHost(Manifest((), {}), entry_points=False)
    plugin_host.register(FakePlugin(EchoContinuer()), "first-provider")
    plugin_host.register(FakePlugin(EchoContinuer()), "second-provider")
    with pytest.raises(DuplicateModelError) as caught:
        plugin_host.models()
    assert "first-provider" in str(caught.value) and "second-provider" in str(caught.value)


def test_disabled_plugins_and_models_are_skipped(fake_distribution: Path) -> None:
    manifest = Manifest((PluginEntry("fakes", "tests.fakes"),), {})
    plugin_host = PluginHost(manifest, disabled={"good", "fake-sine"})
    models = plugin_host.models()
    assert "ep-hummer" not in models and "fake-sine" not in models
    assert "fake-echo" in models


def test_manifest_enabled_false_skips_plugin() -> None:
    manifest = Manifest((PluginEntry("fakes", "tests.fakes", enabled=False),), {})
    assert PluginHost(manifest, entry_points=False).models() == {}


def test_manifest_settings_reach_the_model(tmp_path: Path) -> None:
    checkpoint = tmp_path / "weights.pt"
    checkpoint.write_bytes(b"weights")
    settings = ModelSettings(checkpoint=checkpoint, defaults={"repeats": 3})
    manifest = Manifest((PluginEntry("fakes", "tests.fakes"),), {"fake-echo": settings})
    model = PluginHost(manifest, entry_points=False).models()["fake-echo"]
    assert model.checkpoint == checkpoint
    assert model.default_options == {"repeats": 3}
    described = {o["name"]: o for o in model.describe()["options"]}
    assert described["repeats"]["default"] == 3  # front-ends show the effective default
    assert model.checkpoint_hash and len(model.checkpoint_hash) == 16


def test_manifest_defaults_are_validated_against_options() -> None:
    settings = ModelSettings(defaults={"repeats": 99})
    manifest = Manifest((PluginEntry("fakes", "tests.fakes"),), {"fake-echo": settings})
    with pytest.raises(DawhostError, match="repeats"):
        PluginHost(manifest, entry_points=False).models()


def test_manifest_file_parses(tmp_path: Path) -> None:
    path = tmp_path / "manifest.toml"
    path.write_text(
        textwrap.dedent("""
        [plugins.fakes]
        module = "tests.fakes"
        [models.fake-echo]
        checkpoint = "ckpt/echo.pt"
        expose = ["osc"]
        [models.fake-echo.defaults]
        repeats = 2
    """)
    )
    manifest = Manifest.load(path)
    assert manifest.plugins == (PluginEntry("fakes", "tests.fakes"),)
    assert manifest.models["fake-echo"].checkpoint == tmp_path / "ckpt/echo.pt"
    assert manifest.models["fake-echo"].expose == ("osc",)
