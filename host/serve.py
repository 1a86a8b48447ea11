"""`dawhost serve`: load plugins, start every configured front-end, stop cleanly on a signal.

Models load lazily (on first request, or in the background with `preload`), so the server is
ready in well under two seconds. A front-end that fails to start (no MIDI backend, port in
use) is reported and the others keep serving.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from host.config import Manifest, ServerConfig
from host.core import Core
from host.frontend import Frontend
from host.plugins import PluginHost

log = logging.getLogger("dawhost")

SHUTDOWN_GRACE = 1.0  # seconds workers get to exit on SIGINT/SIGTERM before they are killed


def build_core(config: ServerConfig) -> tuple[Core, PluginHost]:
    manifest = Manifest.load(config.manifest)
    plugin_host = PluginHost(manifest, disabled=config.disabled_plugins)
    core = Core(config, plugin_host.models(), manifest)
    return core, plugin_host


async def serve(
    config: ServerConfig,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[Core, list[Frontend]], None] | None = None,
) -> int:
    stop = stop or asyncio.Event()
    core, plugin_host = build_core(config)  # plugin failures are logged as they happen
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests)
            pass

    started: list[Frontend] = []
    for frontend in plugin_host.frontends():
        if frontend.name == "midi" and not config.midi:
            continue
        try:
            await frontend.start(core)
            started.append(frontend)
        except Exception as exc:
            log.error("front-end %s did not start: %s: %s", frontend.name, type(exc).__name__, exc)
    if config.preload:  # in the background: the wires answer while weights load
        for model in list(core.models.values()):
            core.engine.preload(model)
    core.scheduler.start()

    names = ", ".join(sorted(core.models)) or "none"
    wires = ", ".join(f"{f.name} {getattr(f, 'address', '')}".strip() for f in started)
    log.info(
        "dawhost ready: %s; models: %s; work folder %s",
        wires or "no front-ends",
        names,
        core.work.root,
    )
    if on_ready:
        on_ready(core, started)

    await stop.wait()
    log.info("dawhost stopping")
    # Within 3 s even with hung models: workers get a second, then they are killed by PID.
    core.engine.cancel_all()
    for frontend in reversed(started):
        try:
            await asyncio.wait_for(frontend.stop(), timeout=1.0)
        except Exception as exc:
            log.error("front-end %s did not stop cleanly: %s", frontend.name, exc)
    await core.shutdown(grace=SHUTDOWN_GRACE)
    log.info("dawhost stopped")
    return 0
