"""A real trained model end to end over both wires: the music transformer continues a phrase
requested over OSC and over WebSocket, and the same seed gives the same notes on both.

Needs the committed checkpoint (plugins/music_transformer/checkpoints/music_transformer.pt).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.protocols.crash_check import no_handler_crashes  # noqa: F401
from tests.protocols.osc_client import osc_client, osc_server
from tests.protocols.ws_client import until_end

CHECKPOINT = (
    Path(__file__).resolve().parents[2]
    / "plugins"
    / "music_transformer"
    / "checkpoints"
    / "music_transformer.pt"
)
PRIMER = [60, 90, 0, 1, 64, 90, 1, 1, 67, 90, 2, 1, 72, 90, 3, 1]  # a C major arpeggio

pytestmark = pytest.mark.skipif(
    not CHECKPOINT.is_file(), reason="the music-transformer checkpoint is not committed yet"
)


def test_music_transformer_over_osc_and_websocket(tmp_path: Path) -> None:
    from plugins.music_transformer.plugin import MusicTransformerModel
    from protocols.websocket import WebSocketFrontend

    model = MusicTransformerModel()
    model.checkpoint = CHECKPOINT

    async def main() -> tuple[list[Any], list[Any], list[Any]]:
        async with osc_server(tmp_path, model) as (core, osc), osc_client(osc.port) as client:
            ws = WebSocketFrontend()
            core.config.ws_port = 0
            await ws.start(core)
            try:
                replies = []
                for request_id in (1, 2):  # twice with one seed: the same notes
                    client.send(
                        "/dawhost/music-transformer/continue",
                        request_id,
                        "primer",
                        *PRIMER,
                        "bars",
                        1,
                        "seed",
                        1234,
                        "temperature",
                        0.9,
                    )
                    replies.append(await client.until_end(request_id, timeout=120))
                async with connect(f"ws://127.0.0.1:{ws.port}/") as conn:
                    await conn.send(
                        json.dumps(
                            {
                                "type": "generate",
                                "id": "w",
                                "model": "music-transformer",
                                "inputs": {"primer": [PRIMER[i : i + 4] for i in range(0, 16, 4)]},
                                "options": {"bars": 1, "temperature": 0.9},
                                "seed": 1234,
                            }
                        )
                    )
                    events = await until_end(conn, "w", timeout=120)
            finally:
                await ws.stop()
        return replies[0], replies[1], events

    first, second, ws_events = asyncio.run(main())
    assert first[0].address == "/dawhost/accepted"
    assert first[-1].address == "/dawhost/done", first[-1].args
    notes = [m.args[1:] for m in first if m.address == "/dawhost/note"]
    assert notes, "the model produced no notes"
    for pitch, velocity, start, duration in notes:
        assert 0 <= pitch <= 127 and 1 <= velocity <= 127 and start >= 0 and duration > 0
    assert [m.args[1:] for m in second if m.address == "/dawhost/note"] == notes
    assert json.loads(first[-1].args[3])["seed"] == 1234
    ws_notes = [
        tuple(n)
        for e in ws_events
        if isinstance(e, dict) and e["type"] == "output" and e["kind"] == "notes"
        for n in e["notes"]
    ]
    assert ws_events[-1]["type"] == "done"
    assert [n[:2] for n in ws_notes] == [n[:2] for n in notes]  # pitch and velocity
    assert all(abs(a[2] - b[2]) < 1e-4 for a, b in zip(ws_notes, notes, strict=True))
