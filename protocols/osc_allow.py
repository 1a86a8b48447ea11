"""Which hosts may send OSC over UDP. UDP has no handshake and no token, and its source address
can be forged, so off loopback the only credential is the sender's network: `[osc] allow`
lists networks (`["10.0.0.0/24", "192.168.1.20"]`). Loopback senders are always accepted; a
server bound beyond loopback with an empty list refuses every other host, and says so at start.

Refused datagrams get no reply at all: a reply to a forged source would turn the server into
an amplifier aimed at someone else.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from typing import Any

from protocols import access

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[Any], setting: str = "[osc] allow") -> list[Network]:
    """Networks from the config; a bad entry is an error naming it (the server does not start
    with an allow-list it cannot read)."""
    if isinstance(values, str):
        raise ValueError(f'{setting} must be a list, e.g. ["10.0.0.0/24"], not {values!r}')
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value), strict=False))
        except ValueError as exc:
            raise ValueError(f"{setting}: {value!r} is not a network or address ({exc})") from None
    return networks


class SourceFilter:
    def __init__(self, bind: str, allow: Iterable[Any] = ()) -> None:
        self.bind = bind
        self.networks = parse_networks(allow)
        self.open_to_all = access.loopback_only(bind)  # only loopback can reach the socket
        self.refused = 0
        self._cache: dict[str, bool] = {}

    def allows(self, host: str) -> bool:
        if self.open_to_all:
            return True
        verdict = self._cache.get(host)
        if verdict is None:
            verdict = self._judge(host)
            if len(self._cache) < 4096:  # a forged-source flood must not grow it forever
                self._cache[host] = verdict
        if not verdict:
            self.refused += 1
        return verdict

    def _judge(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return address.is_loopback or any(address in net for net in self.networks)

    def startup_message(self) -> tuple[int, str] | None:
        """The log level and line to print at start, or None on a loopback bind."""
        if self.open_to_all:
            return None
        if not self.networks:
            return (
                logging.WARNING,
                f"OSC is bound to {self.bind} but [osc] allow is empty: datagrams from other "
                'hosts are refused; list their networks, e.g. [osc] allow = ["10.0.0.0/24"]',
            )
        nets = ", ".join(str(n) for n in self.networks)
        return logging.INFO, f"OSC accepts datagrams from loopback and {nets}"
