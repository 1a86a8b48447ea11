"""The hooks a dawhost plugin can implement. Each yields small typed objects.

A plugin is a module (listed in plugin_manifest.toml, or registered under the `dawhost`
entry-point group by an installed package) with functions decorated by `host.hookimpl`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from host.frontend import Frontend
from host.model import Model
from host.tasks import Task

hookspec = pluggy.HookspecMarker("dawhost")
hookimpl = pluggy.HookimplMarker("dawhost")


@hookspec
def register_models() -> Iterable[Model]:
    """Yield the models this plugin provides.

    Example::

        @hookimpl
        def register_models():
            yield Echo()
    """
    raise NotImplementedError  # a hook specification has no body


@hookspec
def register_frontends() -> Iterable[Frontend]:
    """Yield the wire front-ends this plugin provides (OSC, WebSocket, MIDI ...).

    Example::

        @hookimpl
        def register_frontends():
            yield OscFrontend()
    """
    raise NotImplementedError


@hookspec
def register_tasks() -> Iterable[Task]:
    """Yield command-line tasks: `dawhost train|eval|bench <name>` run them.

    Example::

        @hookimpl
        def register_tasks():
            yield Task("train", "music-transformer", "Train on the music21 corpus", train_main)
    """
    raise NotImplementedError
