"""The shape of a wire front-end (OSC, WebSocket, MIDI, ...): started and stopped by the server.

Front-ends are plugins too, so `host` never imports python-osc, mido or websockets.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from host.core import Core


class Frontend(ABC):
    name: ClassVar[str]  # "osc", "websocket", "midi": also the key of its config section

    @abstractmethod
    async def start(self, core: Core) -> None:
        """Open sockets/ports and start serving; return once ready. Raise to report failure."""

    @abstractmethod
    async def stop(self) -> None:
        """Close everything opened by `start` (send note-offs first if notes may be sounding)."""
