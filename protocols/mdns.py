"""Optional mDNS/DNS-SD advertisement of the OSC and OSCQuery ports (`mdns = true`), so
OSCQuery browsers and controllers find dawhost without typing a port. Off by default: it
multicasts on the local network. Needs the `zeroconf` package."""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any

log = logging.getLogger(__name__)

OSCQUERY_SERVICE = "_oscjson._tcp.local."
OSC_SERVICE = "_osc._udp.local."


def service_records(
    bind: str, osc_port: int, oscquery_port: int, name: str = "dawhost"
) -> list[dict[str, Any]]:
    """What to advertise: one record per service (type, instance name, port, addresses)."""
    if bind in ("0.0.0.0", "::", ""):
        addresses = sorted(
            {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
            or {"127.0.0.1"}
        )
    else:
        addresses = [bind]
    packed = [ipaddress.ip_address(a).packed for a in addresses]
    return [
        {
            "type": OSCQUERY_SERVICE,
            "name": f"{name}.{OSCQUERY_SERVICE}",
            "port": oscquery_port,
            "addresses": packed,
        },
        {
            "type": OSC_SERVICE,
            "name": f"{name}.{OSC_SERVICE}",
            "port": osc_port,
            "addresses": packed,
        },
    ]


class Advertiser:
    def __init__(self, bind: str, osc_port: int, oscquery_port: int) -> None:
        self.bind = bind
        self.records = service_records(bind, osc_port, oscquery_port)
        self._zeroconf: Any = None
        self._infos: list[Any] = []
        self._announcing: list[Any] = []

    async def start(self) -> None:
        try:
            from zeroconf import InterfaceChoice
            from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf
        except ImportError:
            log.error(
                "mdns is on but the zeroconf package is not installed "
                "(pip install zeroconf); not advertising"
            )
            return
        # Announce only on the interface dawhost listens on (all of them for 0.0.0.0).
        interfaces = InterfaceChoice.All if self.bind in ("0.0.0.0", "::", "") else [self.bind]
        self._zeroconf = AsyncZeroconf(interfaces=interfaces)
        for record in self.records:
            info = AsyncServiceInfo(
                record["type"],
                record["name"],
                port=record["port"],
                addresses=record["addresses"],
                server="dawhost.local.",
            )
            # The announcements repeat for a few seconds in a background task: the server
            # does not wait for them (startup stays fast).
            self._announcing.append(await self._zeroconf.async_register_service(info))
            self._infos.append(info)
        log.info("advertising %s over mDNS", ", ".join(r["name"] for r in self.records))

    async def stop(self) -> None:
        if self._zeroconf is None:
            return
        for task in self._announcing:
            task.cancel()
        for info in self._infos:
            await (await self._zeroconf.async_unregister_service(info))
        await self._zeroconf.async_close()
        self._zeroconf = None
