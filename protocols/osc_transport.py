"""OSC transport messages: `/dawhost/transport/<command> <args>` applied to the shared clock,
and the `/dawhost/transport` state reply. Safe to call from any thread (the scheduler thread
applies timetagged bundles)."""

from __future__ import annotations

from typing import Any

from host.errors import DawhostError, ErrorCode
from host.transport import Transport, TransportSnapshot, TransportSource, parse_position
from protocols.osc_requests import OscReply

_TRANSPORT_USAGE = {
    "tempo": "/dawhost/transport/tempo takes one number, the tempo in BPM (20..999)",
    "play": "/dawhost/transport/play takes no arguments",
    "stop": "/dawhost/transport/stop takes no arguments",
    "position": '/dawhost/transport/position takes one beat number or "bar:beat" text',
    "signature": "/dawhost/transport/signature takes two ints, numerator and denominator",
}


def apply_transport_message(
    transport: Transport, command: str, args: tuple[Any, ...], at: float | None = None
) -> None:
    """Apply one transport message (any thread); `at` is the monotonic time it takes
    effect. Raises DawhostError naming the problem."""
    source = TransportSource.NETWORK
    try:
        if command == "tempo" and len(args) == 1 and _number(args[0]):
            accepted = transport.set_tempo(float(args[0]), source, at)
        elif command == "play" and not args:
            accepted = transport.play(source, at)
        elif command == "stop" and not args:
            accepted = transport.stop(source, at)
        elif (
            command == "position"
            and len(args) == 1
            and (_number(args[0]) or isinstance(args[0], str))
        ):
            beat = parse_position(args[0], transport.beats_per_bar)
            accepted = transport.set_position(beat, source, at)
        elif (
            command == "signature"
            and len(args) == 2
            and all(isinstance(a, int) and not isinstance(a, bool) for a in args)
        ):
            accepted = transport.set_signature(args[0], args[1], source, at)
        else:
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                _TRANSPORT_USAGE.get(
                    command,
                    f"unknown transport command {command!r}; use "
                    + ", ".join(f"/dawhost/transport/{c}" for c in _TRANSPORT_USAGE),
                ),
            )
    except ValueError as exc:
        raise DawhostError(ErrorCode.BAD_REQUEST, str(exc)) from None
    if not accepted:
        raise DawhostError(
            ErrorCode.BUSY,
            "the transport follows MIDI clock or Link right "
            "now; network transport messages are ignored until it stops",
        )


def transport_reply(snapshot: TransportSnapshot) -> OscReply:
    return (
        "/dawhost/transport",
        [
            snapshot.tempo,
            snapshot.numerator,
            snapshot.denominator,
            int(snapshot.playing),
            snapshot.beat,
            snapshot.bar_beat(),
        ],
    )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
