"""Plugin discovery: built-ins from plugin_manifest.toml and installed packages from the
`dawhost` entry-point group go through the same pluggy manager.

A plugin that fails to import or to register is recorded (which one, why) and skipped; the rest
still load. Two providers of the same model id are an error naming both.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from host import hookspecs
from host.config import Manifest
from host.frontend import Frontend
from host.model import Model
from host.options import validate_options
from host.tasks import Task

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "dawhost"


@dataclass(frozen=True)
class PluginFailure:
    plugin: str
    source: str  # "manifest" or "entry point <value>"
    reason: str

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} ({self.source}) failed to load: {self.reason}"


class DuplicateModelError(Exception):
    pass


class PluginHost:
    def __init__(
        self, manifest: Manifest, disabled: Iterable[str] = (), entry_points: bool = True
    ) -> None:
        self.manifest = manifest
        self.disabled = set(disabled)
        self.failures: list[PluginFailure] = []
        self.pm = pluggy.PluginManager("dawhost")
        self.pm.add_hookspecs(hookspecs)
        self._load_manifest()
        if entry_points:
            self._load_entry_points()

    def _register(self, plugin: Any, name: str, source: str) -> None:
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # pluggy.PluginValidationError, duplicate names
            self._fail(name, source, f"{type(exc).__name__}: {exc}")

    def _fail(self, name: str, source: str, reason: str) -> None:
        failure = PluginFailure(name, source, reason)
        log.warning("%s", failure)
        self.failures.append(failure)

    def _load_manifest(self) -> None:
        for entry in self.manifest.plugins:
            if not entry.enabled or entry.name in self.disabled:
                continue
            try:
                module = importlib.import_module(entry.module)
            except Exception as exc:
                self._fail(
                    entry.name, "manifest", f"import {entry.module}: {type(exc).__name__}: {exc}"
                )
                continue
            self._register(module, entry.name, "manifest")

    def _load_entry_points(self) -> None:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self.disabled or self.pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                self._fail(ep.name, f"entry point {ep.value}", f"{type(exc).__name__}: {exc}")
                continue
            self._register(plugin, ep.name, f"entry point {ep.value}")

    def register(self, plugin: Any, name: str) -> None:
        """Register a plugin object directly (tests use this for fake models)."""
        self.pm.register(plugin, name=name)

    def _collect(self, hook_name: str) -> list[tuple[str, Any]]:
        """Call one hook per plugin, so a failing plugin is named and the others still count."""
        collected: list[tuple[str, Any]] = []
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            try:
                items = list(impl.function() or ())
            except Exception as exc:
                self._fail(impl.plugin_name, "hook", f"{hook_name}: {type(exc).__name__}: {exc}")
                continue
            collected.extend((impl.plugin_name, item) for item in items)
        return collected

    def models(self) -> dict[str, Model]:
        """Every registered model by id, configured from the manifest."""
        models: dict[str, Model] = {}
        providers: dict[str, str] = {}
        for plugin_name, model in self._collect("register_models"):
            if model.model_id in self.disabled:
                continue
            if model.model_id in models:
                raise DuplicateModelError(
                    f"model id {model.model_id!r} is provided by both plugin "
                    f"{providers[model.model_id]!r} and plugin {plugin_name!r}; "
                    "disable one of them (DAWHOST_DISABLE or disabled_plugins)"
                )
            settings = self.manifest.models.get(model.model_id)
            if settings is not None:
                model.checkpoint = settings.checkpoint
                model.device = settings.device
                validate_options(model.Options, settings.defaults, model.model_id)
                model.default_options = dict(settings.defaults)
            models[model.model_id] = model
            providers[model.model_id] = plugin_name
        return models

    def frontends(self) -> list[Frontend]:
        return [frontend for _, frontend in self._collect("register_frontends")]

    def tasks(self) -> list[Task]:
        return [task for _, task in self._collect("register_tasks")]
