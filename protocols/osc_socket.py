"""The OSC UDP socket, opened with a large receive buffer so a burst from Max is queued by the
kernel, not dropped, while the event loop catches up."""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys

log = logging.getLogger(__name__)

RECEIVE_BUFFER_BYTES = 16 * 1024 * 1024  # holds a burst of ~10,000 small datagrams
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)  # Python does not export it on Linux


def open_udp_socket(bind: str, port: int, receive_buffer: int) -> socket.socket:
    """A UDP socket with a large receive buffer, so a burst from Max is queued, not dropped."""
    family = socket.AF_INET6 if _is_ipv6(bind) else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        try:  # root (CAP_NET_ADMIN) may exceed net.core.rmem_max; everyone else is capped by it
            if not sys.platform.startswith("linux"):
                raise OSError("SO_RCVBUFFORCE is Linux-only")
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, receive_buffer)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        # Linux reports twice the size set (the other half is bookkeeping).
        granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        if granted < receive_buffer:
            log.warning(
                "OSC receive buffer is %d bytes, not %d: bursts may lose messages; "
                "raise it with `sysctl -w net.core.rmem_max=%d`",
                granted,
                receive_buffer,
                receive_buffer,
            )
        sock.bind((bind, port))
    except Exception:
        sock.close()
        raise
    return sock


def _is_ipv6(bind: str) -> bool:
    try:
        return ipaddress.ip_address(bind).version == 6
    except ValueError:
        return False
