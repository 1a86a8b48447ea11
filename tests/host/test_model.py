"""The Model template: the host reads MIDI-file inputs into notes, resolves the tempo,
refuses a missing checkpoint with one message, and loads once, before the model's own `run`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import host
from host import BadInput, Capability, DawhostError, Field, InputKind, InputSpec, Model, Note
from host.job import Job
from host.outputs import NotesOutput
from host.smf import write_smf
from host.transport import Transport


class TempoOptions(host.Options):
    tempo: float | None = Field(None, ge=20.0, le=300.0, description="none: the transport's")


class Recorder(Model[TempoOptions]):
    model_id = "recorder"
    capabilities = frozenset({Capability.RENDER_AUDIO})
    inputs = (
        InputSpec("notes", InputKind.NOTES, "notes or a MIDI file"),
        InputSpec("drumless", InputKind.NOTES, "notes or a MIDI file", False, skip_drums=True),
    )

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self.seen: list[tuple[object, float]] = []

    def load(self) -> None:
        self.loads += 1

    def run(self, job: Job[TempoOptions]) -> Iterator[NotesOutput]:
        self.seen.append((job.inputs["notes"], job.tempo))
        yield NotesOutput(job.inputs["notes"])


def job(tmp_path: Path, inputs: dict[str, object], tempo: float | None = None) -> Job[TempoOptions]:
    transport = Transport()
    transport.set_tempo(90.0)
    return Job(
        "r1",
        "recorder",
        "render",
        TempoOptions(tempo=tempo),
        inputs,
        0,
        transport.snapshot(),
        tmp_path,
    )


def test_midi_files_arrive_as_notes_and_the_model_loads_once(tmp_path: Path) -> None:
    path = tmp_path / "a.mid"
    write_smf(path, [Note(60, 100, 0.0, 1.0), Note(64, 90, 1.0, 0.5)])
    model = Recorder()
    list(model.execute(job(tmp_path, {"notes": path})))
    list(model.execute(job(tmp_path, {"notes": [Note(62, 80, 0.0, 2.0)]}, tempo=133.0)))
    assert model.seen == [
        ([Note(60, 100, 0.0, 1.0), Note(64, 90, 1.0, 0.5)], 90.0),
        ([Note(62, 80, 0.0, 2.0)], 133.0),
    ]
    assert model.loads == 1 and model.loaded


def test_empty_files_and_drum_only_files_are_refused_before_loading(
    tmp_path: Path,
) -> None:
    empty, drums = tmp_path / "empty.mid", tmp_path / "drums.mid"
    write_smf(empty, [])
    drums.write_bytes(
        b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk\x00\x00\x00\x0c"
        b"\x00\x99\x24\x64\x60\x89\x24\x00\x00\xff\x2f\x00"
    )
    model = Recorder()
    with pytest.raises(BadInput, match="empty.mid contains no notes"):
        list(model.execute(job(tmp_path, {"notes": empty})))
    with pytest.raises(BadInput, match="drum channel"):
        list(model.execute(job(tmp_path, {"notes": [], "drumless": drums})))
    # (Tempos outside the schema never get here: the core refuses them, tests/host/test_core.)
    assert model.loads == 0


def test_a_missing_checkpoint_is_one_model_error_naming_the_training_task(
    tmp_path: Path,
) -> None:
    class Weighted(Recorder):
        default_checkpoint = tmp_path / "nowhere.pt"
        trained_by = "recorder-kit"

    model = Weighted()
    with pytest.raises(DawhostError) as caught:
        list(model.execute(job(tmp_path, {"notes": []})))
    assert caught.value.code is host.ErrorCode.MODEL_ERROR
    assert "nowhere.pt is missing" in caught.value.message
    assert "`dawhost train recorder-kit`" in caught.value.message
    model.checkpoint = tmp_path / "here.pt"  # the manifest's checkpoint wins
    model.checkpoint.write_bytes(b"weights")
    list(model.execute(job(tmp_path, {"notes": []})))
    assert model.loads == 1 and model.checkpoint_file == tmp_path / "here.pt"


def test_the_type_parameter_is_the_options_class() -> None:
    assert Recorder.Options is TempoOptions
    with pytest.raises(TypeError, match="Model\\[TempoOptions\\] but its Options is Options"):

        class Confused(Model[TempoOptions]):  # noqa: F841 - defining it is the test
            Options = host.Options
