"""How the OSCQuery server reaches the OSC front-end without importing it.

OSCQuery (the namespace over HTTP, LISTEN over WebSocket) and OSC (requests over UDP) are two
front-ends beside each other. OSCQuery needs three things from OSC: its UDP port (HOST_INFO,
mDNS), and a way to run OSC packets that arrive as WebSocket binary frames with the replies
sent back on that connection. The OSC front-end offers itself under `OSC_SERVICE` in the
core's `services` while it runs; OSCQuery looks it up through this structural type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

from host.core import Core

OSC_SERVICE = "osc"
Address = tuple[str, int]


class OscEndpoint(Protocol):
    port: int

    def handle_datagram(self, data: bytes, addr: Address) -> None: ...

    def attach_stream(self, name: str, send: Callable[[bytes], Any]) -> Address: ...

    def detach_stream(self, name: str) -> None: ...


def osc_endpoint(core: Core) -> OscEndpoint | None:
    """The running OSC front-end, or None when OSC is not serving."""
    return cast("OscEndpoint | None", core.services.get(OSC_SERVICE))
