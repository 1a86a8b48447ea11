"""OSC transport messages: `/dawhost/transport/<command> <args>` applied to the shared clock,
and the `/dawhost/transport` state reply. Safe to call from any thread (the scheduler thread
applies timetagged bundles)."""

from __future__ import annotations

from typing import Any

from host.errors import DawhostError, ErrorCode
from host.request_parsing import apply_transport
from host.transport import Transport, TransportSnapshot, TransportSource
from protocols.osc_requests import OscReply

_TRANSPORT_USAGE = {
    "tempo": "/dawhost/transport/tempo takes one number, the tempo in BPM (20..999)",
    "play": "/dawhost/transport/play takes no arguments",
    "stop": "/dawhost/transport/stop takes no arguments",
    "position": '/dawhost/transport/position takes one beat number or "bar:beat" text',
    "signature": "/dawhost/transport/signature takes two ints, numerator and denominator",
    "sync": "/dawhost/transport/sync takes <tempo> <beat> <playing 0/1> [<numerator> "
    "<denominator>]: what Max's [transport] reports, sent every 100-500 ms",
}
# /dawhost/transport/sync moves the position only when it is off by more than this: a client
# reports its transport with some jitter, and every move re-times the notes waiting to play.
SYNC_TOLERANCE_SECONDS = 0.004


def apply_transport_message(
    transport: Transport, command: str, args: tuple[Any, ...], at: float | None = None
) -> None:
    """Apply one transport message (any thread); `at` is the monotonic time it takes
    effect. Raises DawhostError naming the problem."""
    if command == "sync" and len(args) in (3, 5) and all(_number(a) for a in args):
        _apply_sync(transport, args, at)
        return
    changes = _changes(command, args)
    if changes is None:
        raise DawhostError(
            ErrorCode.BAD_REQUEST,
            _TRANSPORT_USAGE.get(
                command,
                f"unknown transport command {command!r}; use "
                + ", ".join(f"/dawhost/transport/{c}" for c in _TRANSPORT_USAGE),
            ),
        )
    apply_transport(transport, changes, at=at)


def _changes(command: str, args: tuple[Any, ...]) -> dict[str, Any] | None:
    """The shared transport fields an OSC command stands for, or None when its arguments
    do not fit it (the usage text then says what does)."""
    if command == "tempo" and len(args) == 1 and _number(args[0]):
        return {"tempo": args[0]}
    if command in ("play", "stop") and not args:
        return {"playing": command == "play"}
    if command == "position" and len(args) == 1 and (_number(args[0]) or isinstance(args[0], str)):
        return {"position": args[0]}
    if command == "signature" and len(args) == 2:
        return {"signature": list(args)}
    return None


def _apply_sync(transport: Transport, args: tuple[Any, ...], at: float | None) -> None:
    try:
        accepted = _sync(transport, args, at)
    except ValueError as exc:
        raise DawhostError(ErrorCode.BAD_REQUEST, str(exc)) from None
    if not accepted:
        raise DawhostError(
            ErrorCode.BUSY,
            "the transport follows MIDI clock or Link right now; network transport messages "
            "are ignored until it stops",
        )


def _sync(transport: Transport, args: tuple[Any, ...], at: float | None) -> bool:
    """Follow a client's transport (Max's [transport]): apply only what differs, so a steady
    stream of reports leaves the clock alone."""
    source = TransportSource.NETWORK
    tempo, beat, playing = float(args[0]), float(args[1]), bool(args[2])
    if not (beat >= 0 and beat < float("inf")):
        raise ValueError(f"position must be a beat >= 0, got {args[1]!r}")
    accepted = True
    if len(args) == 5:
        numerator, denominator = int(args[3]), int(args[4])
        if (numerator, denominator) != transport.signature:
            accepted = transport.set_signature(numerator, denominator, source, at)
    if accepted and abs(tempo - transport.tempo) > 1e-6:
        accepted = transport.set_tempo(tempo, source, at)
    if not accepted:
        return False
    if playing != transport.playing:
        transport.set_position(beat, source, at)
        return (transport.play if playing else transport.stop)(source, at)
    drift_seconds = abs(transport.beat_at(at) - beat) * 60.0 / transport.tempo
    if drift_seconds > (SYNC_TOLERANCE_SECONDS if playing else 0.0):
        return transport.set_position(beat, source, at)
    return transport.accepts(source)


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
