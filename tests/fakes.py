"""Fake models for tests: small, deterministic, and honest about what they do.

Register them through a plugin object (see `fake_plugin`) so tests exercise the same pluggy
path as real plugins.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

import host
from host import Capability, Field, InputKind, InputSpec, Model, Note, NotesOutput


class EchoContinuer(Model):
    """Continues a phrase by repeating it `repeats` times after its end, one note per output."""

    model_id = "fake-echo"
    capabilities = frozenset({Capability.CONTINUE_MIDI})
    inputs = (InputSpec("primer", InputKind.NOTES, "notes to echo"),)
    causal = True
    description = "Repeats the primer after its end (test model)"

    class Options(host.Options):
        repeats: int = Field(1, ge=1, le=8, description="How many times to repeat the primer")
        temperature: float = Field(1.0, ge=0.1, le=2.0, description="Ignored; for CC tests")
        style: str = Field("any", description="Free text, echoed into provenance")

    def run(self, job: host.Job) -> Iterator[NotesOutput]:
        primer: list[Note] = job.inputs["primer"]
        length = max(n.start + n.duration for n in primer)
        total = job.options.repeats * len(primer)
        for r in range(job.options.repeats):
            for i, note in enumerate(primer):
                job.progress((r * len(primer) + i + 1) / total)
                shifted = replace(
                    note, start=note.start - min(n.start for n in primer) + length * r
                )
                yield NotesOutput([shifted], final=False)


class SineRenderer(Model):
    """Renders each note as a sine tone, `bars` bars long at the job's tempo."""

    model_id = "fake-sine"
    capabilities = frozenset({Capability.RENDER_AUDIO})
    inputs = (InputSpec("notes", InputKind.NOTES, "notes to render"),)
    sample_rate = 8000

    class Options(host.Options):
        bars: int = Field(1, ge=1, le=8, description="Length in bars")
        gain: float = Field(0.5, ge=0.0, le=1.0, description="Output gain")

    def run(self, job: host.Job) -> Iterator[host.AudioOutput]:
        seconds = job.options.bars * job.transport.beats_per_bar * job.transport.seconds_per_beat
        t = np.arange(int(round(seconds * self.sample_rate))) / self.sample_rate
        audio = np.zeros_like(t)
        for note in job.inputs["notes"]:
            start = note.start * job.transport.seconds_per_beat
            end = start + note.duration * job.transport.seconds_per_beat
            freq = 440.0 * 2 ** ((note.pitch - 69) / 12)
            mask = (t >= start) & (t < end)
            audio[mask] += np.sin(2 * np.pi * freq * t[mask])
        job.progress(1.0)
        peak = float(np.max(np.abs(audio))) or 1.0
        yield host.AudioOutput(
            self.sample_rate, samples=(audio / peak * job.options.gain).astype(np.float32)
        )


class SlowModel(Model):
    """Counts steps until cancelled; `steps` shows whether cancel really stopped the work.

    The model runs in a worker process, so the count travels through a file the test reads:
    `steps` and `wait_started()` work from the test's side, whatever the executor."""

    model_id = "fake-slow"
    capabilities = frozenset({Capability.RENDER_AUDIO})
    inputs = ()
    sample_rate = 8000

    class Options(host.Options):
        seconds: float = Field(5.0, ge=0.0, le=60.0, description="How long to work")

    def __init__(self) -> None:
        super().__init__()
        folder = tempfile.mkdtemp(prefix="dawhost-fake-slow-")
        # Removed with this object, not with the worker's unpickled copy (no __init__ there).
        weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        self.step_file = Path(folder) / "steps"
        self._count = 0

    @property
    def steps(self) -> int:
        """Steps taken so far (over every run), as the worker last wrote them."""
        try:
            return int(self.step_file.read_text())
        except (FileNotFoundError, ValueError):
            return 0

    def wait_started(self, timeout: float = 5.0) -> bool:
        """Block until a run has taken its first step since the last `reset()`."""
        deadline = time.monotonic() + timeout
        while not self.step_file.exists():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def reset(self) -> None:
        self.step_file.unlink(missing_ok=True)

    def settled_steps(self, quiet: float = 0.2, limit: float = 5.0) -> int:
        """The step count once it has not moved for `quiet` seconds (the worker saw the cancel).

        A cancel reply can reach the client a step or two before the worker's next
        `progress()` call sees the cancel, more so on a loaded machine: tests wait for the
        count to settle, then check it stays put."""
        deadline = time.monotonic() + limit
        steps = self.steps
        while time.monotonic() < deadline:
            time.sleep(quiet)
            if self.steps == steps:
                break
            steps = self.steps
        return steps

    def run(self, job: host.Job) -> Iterator[host.AudioOutput]:
        deadline = time.monotonic() + job.options.seconds
        while time.monotonic() < deadline:
            self._count += 1
            tmp = self.step_file.with_suffix(".tmp")
            tmp.write_text(str(self._count))
            os.replace(tmp, self.step_file)  # a reader never sees half a number
            job.progress(1 - (deadline - time.monotonic()) / max(job.options.seconds, 1e-9))
            time.sleep(0.005)
        yield host.AudioOutput(self.sample_rate, samples=np.zeros(80, dtype=np.float32))


class FakeTranscriber(Model):
    """Transcribes a recording one beat at a time: each beat of audio louder than `threshold`
    (RMS) becomes one note at its strongest frequency. Sine tones come back exactly; `seconds`
    makes it slow (progress every 5 ms) for cancel tests."""

    model_id = "fake-transcribe"
    capabilities = frozenset({Capability.TRANSCRIBE})
    inputs = (InputSpec("audio", InputKind.AUDIO_FILE, "a recording"),)

    class Options(host.Options):
        threshold: float = Field(0.01, ge=0.0, le=1.0, description="RMS a beat needs")
        seconds: float = Field(0.0, ge=0.0, le=60.0, description="Extra time to take")
        last_bars: float = Field(0.0, ge=0.0, le=64.0, description="Only the last bars")
        monophonic: bool = Field(True, description="Always: one note per beat (as the real one)")

    def run(self, job: host.Job) -> Iterator[host.NotesOutput | host.FileOutput]:
        import soundfile

        from host.smf import MIDI_MEDIA_TYPE, write_smf

        audio, rate = soundfile.read(str(job.inputs["audio"]), always_2d=True)
        mono = audio.mean(axis=1)
        if job.options.last_bars:
            beats = job.options.last_bars * job.transport.beats_per_bar
            mono = mono[-int(round(beats * job.transport.seconds_per_beat * rate)) :]
        deadline = time.monotonic() + job.options.seconds
        while time.monotonic() < deadline:
            job.progress(0.5 * (1 - (deadline - time.monotonic()) / job.options.seconds), "wait")
            time.sleep(0.005)
        beat = int(rate * job.transport.seconds_per_beat)
        notes = []
        for index in range(len(mono) // beat):
            part = mono[index * beat : (index + 1) * beat]
            job.progress(0.5 + 0.5 * index * beat / len(mono), "listening")
            if float(np.sqrt(np.mean(part**2))) <= job.options.threshold:
                continue
            spectrum = np.abs(np.fft.rfft(part))
            freq = float(np.argmax(spectrum)) * rate / len(part)
            pitch = int(round(69 + 12 * np.log2(max(freq, 1.0) / 440.0)))
            notes.append(Note(min(127, max(0, pitch)), 100, float(index), 1.0))
        yield NotesOutput(notes)
        path = job.output_path("transcription", ".mid")
        write_smf(path, notes, job.transport.tempo, 4, 4)
        yield host.FileOutput(path, MIDI_MEDIA_TYPE, name="midi")


def write_tones(path: Path, pitches: list[int | None], tempo: float = 120.0) -> Path:
    """A WAV of one sine tone per beat at `tempo` (None: a silent beat), at 8 kHz."""
    import soundfile

    rate = 8000
    beat = int(rate * 60.0 / tempo)
    t = np.arange(beat) / rate
    parts = [
        np.zeros(beat) if p is None else 0.5 * np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t)
        for p in pitches
    ]
    soundfile.write(str(path), np.concatenate(parts).astype(np.float32), rate)
    return path


class FailingModel(Model):
    model_id = "fake-failing"
    capabilities = frozenset({Capability.RENDER_AUDIO})

    def run(self, job: host.Job) -> Iterator[host.AudioOutput]:
        raise RuntimeError("weights are corrupt")
        yield  # pragma: no cover


class FakePlugin:
    """A plugin object registering the fakes (pass instances to share state with a test)."""

    def __init__(self, *models: Model) -> None:
        self._models = models or (EchoContinuer(), SineRenderer(), SlowModel(), FailingModel())

    @host.hookimpl
    def register_models(self) -> Iterator[Model]:
        yield from self._models


def make_core(work_dir, *models: Model, **settings):  # type: ignore[no-untyped-def]
    """A Core serving the given fake models (all four by default) through the plugin path."""
    from host.config import Manifest, ServerConfig
    from host.core import Core
    from host.plugins import PluginHost

    plugin_host = PluginHost(Manifest((), {}), entry_points=False)
    plugin_host.register(FakePlugin(*models), "fakes")
    return Core(ServerConfig(work_dir=work_dir, **settings), plugin_host.models())


@host.hookimpl
def register_models() -> Iterator[Model]:
    """Lets a manifest list `tests.fakes` as a plugin module."""
    yield EchoContinuer()
    yield SineRenderer()


class RecordingFrontend(host.Frontend):
    """Records start/stop; `fail=True` makes start raise like a port already in use."""

    name = "recording"
    instances: list[RecordingFrontend] = []

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.core = None
        self.stopped = False
        RecordingFrontend.instances.append(self)

    async def start(self, core):  # type: ignore[no-untyped-def]
        if self.fail:
            raise OSError("address already in use")
        self.core = core

    async def stop(self) -> None:
        self.stopped = True


@host.hookimpl
def register_frontends() -> Iterator[host.Frontend]:
    yield RecordingFrontend(fail=True)
    yield RecordingFrontend()


def _echo_task(argv):  # type: ignore[no-untyped-def]
    import json

    print(json.dumps({"task": "fake", "argv": list(argv)}))
    return 0


def _counting_task(argv):  # type: ignore[no-untyped-def]
    """`dawhost eval fake --steps N`: N steps through host.progress, then a JSON report."""
    import json

    from host.progress import track

    steps = int(argv[argv.index("--steps") + 1]) if "--steps" in argv else 3
    done = sum(1 for _ in track(range(steps), "fake: steps", unit="step"))
    print(json.dumps({"task": "fake", "steps": done}))
    return 0


@host.hookimpl
def register_tasks() -> Iterator[host.Task]:
    yield host.Task("bench", "fake", "Prints its arguments as JSON", _echo_task)
    yield host.Task("eval", "fake", "Counts steps with a progress bar", _counting_task)


def run_requests(
    work_dir,  # type: ignore[no-untyped-def]
    model: Model,
    verb: str,
    *requests: dict,  # type: ignore[type-arg]
    tempo: float = 120.0,
    signature: tuple[int, int] = (4, 4),
    timeout: float = 180.0,  # a hang guard only: real models through the core are slow under load
) -> list[list]:  # type: ignore[type-arg]
    """Requests (dicts of Request fields), one after another, through a fresh core serving
    `model` at this tempo and time signature; each request's events up to done or error."""
    import asyncio

    from host.memory import MemoryFrontend

    async def main() -> list[list]:  # type: ignore[type-arg]
        core = make_core(work_dir, model)
        core.transport.set_tempo(tempo)
        core.transport.set_signature(*signature)
        frontend = MemoryFrontend(core)
        try:
            return [
                await frontend.request(model.model_id, verb, timeout=timeout, **fields)
                for fields in requests
            ]
        finally:
            await core.shutdown()

    return asyncio.run(main())
