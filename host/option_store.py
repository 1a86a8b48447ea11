"""Server-wide option defaults, one store for every wire.

A Max slider writing `/dawhost/melnet/options/temperature 0.4`, a MIDI CC mapped to an option
and a browser's "set as default" all change the same value here; every request from any wire
starts from these defaults (manifest settings < these < the request's own options).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from host.model import Model
from host.options import validate_options

OptionListener = Callable[[str, str, Any], None]  # (model id, option name, new value)


class OptionStore:
    def __init__(self) -> None:
        self._values: dict[str, dict[str, Any]] = {}
        self._listeners: list[OptionListener] = []

    def defaults(self, model: Model) -> dict[str, Any]:
        """Option values a new request of `model` starts from."""
        return {**model.default_options, **self._values.get(model.model_id, {})}

    def changed(self, model_id: str) -> dict[str, Any]:
        """The values set on this server (not the schema's or the manifest's defaults)."""
        return dict(self._values.get(model_id, {}))

    def set(self, model: Model, name: str, value: Any) -> Any:
        """Check and store one default; returns the value as the schema typed it."""
        merged = {**self.defaults(model), name: value}
        checked = validate_options(model.Options, merged, model.model_id)  # names a bad one
        typed = getattr(checked, name)
        self._values.setdefault(model.model_id, {})[name] = typed
        for listener in list(self._listeners):
            listener(model.model_id, name, typed)
        return typed

    def forget(self, model_id: str) -> None:
        """Drop the defaults of a model that was removed."""
        self._values.pop(model_id, None)

    def subscribe(self, listener: OptionListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)
