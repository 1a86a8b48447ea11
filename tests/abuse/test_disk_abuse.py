"""Issue #20 items 5 and 6, and #21 item 4: nothing lost or overwritten across restarts,
stale partial files removed at start, quotas that hold under concurrency and cover jobs/,
inputs that cannot be swapped for a link after the check, and inputs from anywhere on
loopback (outputs still only in the work folder)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from host import Note
from host.errors import DawhostError, ErrorCode
from host.job_runner import run_job
from host.memory import MemoryFrontend
from host.requests import Done, Error, Event, OutputEvent, Request
from host.safe_open import pinned_inputs
from host.smf import write_smf
from host.work_quota import JobsQuota
from host.workfolder import WorkFolder
from protocols.ws_uploads import Upload
from tests.fakes import EchoContinuer, SineRenderer, make_core

MIB = 1024 * 1024


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def render_path(events: list[Event]) -> Path:
    assert isinstance(events[-1], Done), events
    output = next(e for e in events if isinstance(e, OutputEvent))
    return Path(output.output.path)  # type: ignore[union-attr]


def upload(work: WorkFolder, data: bytes, client: str = "ws:1", quota: int = 50 * MIB) -> Path:
    item = Upload(work, client, {"id": "u1", "name": "loop.wav", "size": len(data)}, quota=quota)
    item.add(data)
    return item.finish()


def test_a_restarted_server_overwrites_nothing(tmp_path: Path) -> None:
    """The attack: after a restart client numbering began again at ws:1, and the new ws:1
    overwrote the previous run's uploads and job outputs."""

    async def serve_once(gain: float) -> tuple[Path, Path]:
        core = make_core(tmp_path, SineRenderer())
        try:
            events = await MemoryFrontend(core, client="ws:1").request(
                "fake-sine",
                "render",
                request_id="1",
                inputs={"notes": [69, 100, 0, 1]},
                options={"gain": gain},
            )
            return render_path(events), upload(core.work, f"take {gain}".encode())
        finally:
            await core.shutdown()

    first_output, first_upload = run(serve_once(0.5))
    before = first_output.read_bytes(), first_upload.read_bytes()
    second_output, second_upload = run(serve_once(0.25))
    assert second_output != first_output and second_upload != first_upload
    assert (first_output.read_bytes(), first_upload.read_bytes()) == before
    assert second_upload.read_bytes() == b"take 0.25"


def test_a_reused_request_id_gets_a_new_job_folder(tmp_path: Path) -> None:
    work = WorkFolder(tmp_path)
    assert work.job_folder("osc:127.0.0.1", "1") != work.job_folder("osc:127.0.0.1", "1")
    assert WorkFolder(tmp_path).run_id != work.run_id


def test_stale_partial_files_are_removed_at_start(tmp_path: Path) -> None:
    """The attack: SIGKILL mid-job left *.wav.part and .partial files that were never removed
    and counted against the uploads quota forever."""
    stale = [
        tmp_path / "uploads" / ".ws_1-u1-loop.wav.x8f2.partial",
        tmp_path / "jobs" / "old-job" / ".vocals.k2j1.partial.wav",
        tmp_path / "jobs" / "old-job" / "drums.wav.part",
    ]
    kept = [tmp_path / "uploads" / "ws_1-u1-loop.wav", tmp_path / "jobs" / "old-job" / "bass.wav"]
    for path in stale + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 100)
    first = WorkFolder.for_server(tmp_path, [], loopback=True)
    assert [p.exists() for p in stale] == [False] * 3 and all(p.exists() for p in kept)
    # While that server runs, a second one on the same folder must not delete its partials.
    stale[0].write_bytes(b"still arriving")
    WorkFolder.for_server(tmp_path, [], loopback=True)
    assert stale[0].exists()
    del first


def test_concurrent_uploads_cannot_overshoot_the_quota(tmp_path: Path) -> None:
    """The attack: four 15 MiB uploads at once filled 90 MiB under a 50 MiB quota."""
    work = WorkFolder(tmp_path)
    announce = {"name": "loop.wav", "size": 15 * MIB}
    arriving = [Upload(work, f"ws:{i}", {"id": i, **announce}, quota=50 * MIB) for i in range(3)]
    with pytest.raises(DawhostError) as refused:
        Upload(work, "ws:9", {"id": 9, **announce}, quota=50 * MIB)
    assert refused.value.code is ErrorCode.BUSY and "still arriving" in refused.value.message
    arriving[0].abort()
    Upload(work, "ws:9", {"id": 9, **announce}, quota=50 * MIB).abort()  # room again
    for item in arriving[1:]:
        item.abort()
    assert work.uploads.in_flight == 0


def test_jobs_quota_evicts_the_oldest_finished_never_a_running_one(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    for age, name in enumerate(["old", "middle", "running", "new"]):
        (jobs / name).mkdir(parents=True)
        (jobs / name / "out.wav").write_bytes(b"x" * 1000)
        os.utime(jobs / name, (1_000_000 + age, 1_000_000 + age))
    quota = JobsQuota(jobs, 3500)
    quota.scan()  # at start nothing runs: the oldest goes
    assert sorted(p.name for p in jobs.iterdir()) == ["middle", "new", "running"]
    quota.quota = 2000
    removed = quota.job_ended(jobs / "new", running=[jobs / "running"])
    assert removed == ["middle"] and sorted(p.name for p in jobs.iterdir()) == ["new", "running"]
    quota.quota = 10
    quota.enforce(running=[jobs / "running"])
    assert [p.name for p in jobs.iterdir()] == ["running"]  # over quota, but it runs


def test_jobs_quota_holds_through_the_core(tmp_path: Path) -> None:
    async def main() -> tuple[list[Path], int]:
        core = make_core(tmp_path, SineRenderer(), jobs_quota=100_000)  # ~1.5 renders
        fe = MemoryFrontend(core)
        paths = []
        for _ in range(4):
            events = await fe.request(
                "fake-sine", "render", inputs={"notes": [69, 100, 0, 1]}, options={"bars": 1}
            )
            paths.append(render_path(events))
        await core.shutdown()
        total = sum(f.stat().st_size for f in (tmp_path / "jobs").rglob("*") if f.is_file())
        return paths, total

    paths, total = run(main())
    assert paths[-1].exists() and not paths[0].exists()
    assert total <= 100_000 + paths[-1].stat().st_size


def test_a_folder_swapped_for_a_link_after_the_check_is_not_read(tmp_path: Path) -> None:
    """The attack: a queued job read through a folder swapped for a symlink after its path
    was checked."""
    inputs, secret = tmp_path / "inputs", tmp_path / "secret"
    for folder, pitch in ((inputs, 60), (secret, 99)):
        folder.mkdir()
        write_smf(folder / "phrase.mid", [Note(pitch, 100, 0.0, 1.0)])

    async def main() -> tuple[Event, Event]:
        core = make_core(tmp_path / "work", EchoContinuer(), bind="0.0.0.0", input_roots=[inputs])
        model = core.models["fake-echo"]
        request = Request(
            "1", "fake-echo", "continue", inputs={"primer": str(inputs / "phrase.mid")}
        )
        _, clean_job = core.build_job(request)
        _, queued_job = core.build_job(request)
        clean: list[Event] = []
        run_job(model, clean_job, core.work, clean.append)
        inputs.rename(tmp_path / "inputs.old")
        inputs.symlink_to(secret)  # the swap, after the check
        swapped: list[Event] = []
        run_job(model, queued_job, core.work, swapped.append)
        await core.shutdown()
        return clean[-1], swapped[-1]

    clean, swapped = run(main())
    assert isinstance(clean, Done)
    assert isinstance(swapped, Error) and swapped.code is ErrorCode.PATH_NOT_ALLOWED
    assert "symbolic link" in swapped.message


def test_pinned_inputs_refuse_a_linked_file_and_a_fifo(tmp_path: Path) -> None:
    (tmp_path / "real.wav").write_bytes(b"RIFF")
    (tmp_path / "link.wav").symlink_to(tmp_path / "real.wav")
    os.mkfifo(tmp_path / "pipe.wav")
    with pinned_inputs({"a": tmp_path / "real.wav", "n": 3}) as pinned:
        assert Path(pinned["a"]).read_bytes() == b"RIFF" and pinned["a"].name == "real.wav"
    for name, code in (("link.wav", ErrorCode.PATH_NOT_ALLOWED), ("pipe.wav", ErrorCode.BAD_INPUT)):
        with pytest.raises(DawhostError) as caught, pinned_inputs({"a": tmp_path / name}):
            pass
        assert caught.value.code is code


def test_on_loopback_any_absolute_audio_or_midi_path_is_an_input(tmp_path: Path) -> None:
    """#21 item 4: a file dropped from the desktop works without copying it."""
    desktop = tmp_path / "Desktop"
    desktop.mkdir()
    write_smf(desktop / "phrase.mid", [Note(62, 100, 0.0, 1.0)])
    (desktop / "notes.txt").write_text("secret")

    async def main(bind: str, roots: list[Path]) -> dict[str, Any]:
        core = make_core(tmp_path / "work", EchoContinuer(), bind=bind, input_roots=roots)
        fe = MemoryFrontend(core)
        found: dict[str, Any] = {}
        for name, value in (
            ("midi", str(desktop / "phrase.mid")),
            ("text file", str(desktop / "notes.txt")),
            ("relative climb", "../Desktop/phrase.mid"),
        ):
            found[name] = (await fe.request("fake-echo", "continue", inputs={"primer": value}))[-1]
        await core.shutdown()
        return found

    loopback = run(main("127.0.0.1", []))
    assert isinstance(loopback["midi"], Done)
    assert isinstance(loopback["text file"], Error)
    assert loopback["text file"].code is ErrorCode.PATH_NOT_ALLOWED
    assert "not an audio or MIDI file" in loopback["text file"].message
    assert loopback["relative climb"].code is ErrorCode.PATH_NOT_ALLOWED  # relative: work folder
    beyond = run(main("0.0.0.0", []))  # no socket is opened: the core alone
    assert beyond["midi"].code is ErrorCode.PATH_NOT_ALLOWED
    assert "input_roots" in beyond["midi"].message
    assert isinstance(run(main("0.0.0.0", [desktop]))["midi"], Done)


def test_outputs_stay_in_the_work_folder_on_loopback(tmp_path: Path) -> None:
    async def main() -> Path:
        core = make_core(tmp_path / "work", SineRenderer())
        events = await MemoryFrontend(core).request(
            "fake-sine", "render", inputs={"notes": [69, 100, 0, 1]}
        )
        await core.shutdown()
        return render_path(events)

    assert run(main()).is_relative_to((tmp_path / "work").resolve())
    with pytest.raises(DawhostError):
        WorkFolder(tmp_path / "work", inputs_from_anywhere=True).confine(tmp_path / "elsewhere.wav")
