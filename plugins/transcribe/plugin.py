"""The dawhost plugin: registers the `transcribe` model (audio -> notes and a MIDI file) and its
`dawhost train|eval|bench transcribe` tasks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import host
from host import (
    Capability,
    DataOutput,
    Field,
    FileOutput,
    InputKind,
    InputSpec,
    Model,
    Note,
    NotesOutput,
)

if TYPE_CHECKING:
    from plugins.transcribe.decode import SecondsNote
    from plugins.transcribe.transcriber import Transcriber

MODEL_ID = "transcribe"


class TranscribeOptions(host.Options):
    onset_threshold: float = Field(
        0.0,
        ge=0.0,
        le=0.95,
        description="How sure the onset head must be to start a note (0 = the value "
        "tuned on validation; lower finds more notes, and more false ones)",
    )
    frame_threshold: float = Field(
        0.0,
        ge=0.0,
        le=0.95,
        description="How sure the frame head must be to hold a note (0 = tuned value)",
    )
    min_duration_ms: float = Field(
        32.0, ge=0.0, le=1000.0, description="Drop notes shorter than this"
    )
    monophonic: bool = Field(
        False, description="One note at a time (a voice or a hummed or whistled line)"
    )
    lowest_pitch: int = Field(21, ge=21, le=108, description="Drop notes below this key")
    highest_pitch: int = Field(
        108, ge=21, le=108, description="Drop notes above this key (crossed bounds are swapped)"
    )
    quantize: Literal["off", "1/4", "1/8", "1/16", "1/32"] = Field(
        "off", description="Snap starts and ends to this grid at the transport tempo"
    )
    last_bars: float = Field(
        0.0,
        ge=0.0,
        le=64.0,
        description="Transcribe only the last this many bars of the recording, at the "
        "transport tempo and signature (beat 0 is where they start); 0 = all of it",
    )


class NoteTranscriber(Model[TranscribeOptions]):
    """Onset/frame/velocity CNN on a harmonic-stacked log-frequency spectrogram at 16 kHz."""

    model_id = MODEL_ID
    capabilities = frozenset({Capability.TRANSCRIBE})
    inputs = (
        InputSpec(
            "audio",
            InputKind.AUDIO_FILE,
            "a recording to transcribe (WAV, FLAC or OGG; any rate; mono or stereo)",
        ),
    )
    sample_rate = None
    causal = False
    description = (
        "Transcribes audio to notes (pitch, velocity, start, duration in beats at the "
        "transport tempo) and a MIDI file; voice and instruments, monophonic or polyphonic"
    )

    default_checkpoint = Path(__file__).resolve().parent / "checkpoints" / "transcribe.pt"

    def __init__(self) -> None:
        super().__init__()
        self.transcriber: Transcriber | None = None

    def load(self) -> None:
        import torch

        from plugins.transcribe.transcriber import Transcriber

        assert self.checkpoint_file is not None  # and it exists: ensure_loaded checked
        torch.set_num_threads(min(2, torch.get_num_threads()))
        self.transcriber = Transcriber.from_checkpoint(self.checkpoint_file)

    def run(
        self, job: host.Job[TranscribeOptions]
    ) -> Iterator[NotesOutput | FileOutput | DataOutput]:
        from host.smf import MIDI_MEDIA_TYPE, write_smf
        from plugins.transcribe.transcriber import keep_monophonic, read_mono

        assert self.transcriber is not None
        options = job.options
        # Every value the schema offers is accepted: crossed bounds are read in order.
        low, high = sorted((options.lowest_pitch, options.highest_pitch))
        audio = read_mono(Path(job.inputs["audio"]))
        skipped = 0
        if options.last_bars:
            beats = options.last_bars * job.transport.beats_per_bar
            keep = int(round(beats * job.transport.seconds_per_beat * 16_000))
            skipped = max(0, len(audio) - keep)
            audio = audio[skipped:]
        job.progress(0.05, "read audio")
        found = self.transcriber.transcribe(
            audio,
            options.onset_threshold or None,
            options.frame_threshold or None,
            progress=lambda f: job.progress(0.05 + 0.9 * f, "transcribing"),
        )
        found = [
            n
            for n in found
            if low <= n.pitch <= high
            and (n.offset - n.onset) * 1000 >= options.min_duration_ms - 1e-6
        ]
        if options.monophonic:
            found = keep_monophonic(found)
        transport = job.transport
        notes = to_beats(found, transport.tempo, options.quantize)
        if options.monophonic:
            notes = one_at_a_time(notes)  # snapping to the grid can make notes overlap again
        yield NotesOutput(notes)
        path = job.output_path("transcription", ".mid")
        write_smf(path, notes, transport.tempo, transport.numerator, transport.denominator)
        yield FileOutput(path, MIDI_MEDIA_TYPE, name="midi")
        yield DataOutput(
            {
                "tempo": transport.tempo,
                "seconds": len(audio) / 16_000,
                "from_second": skipped / 16_000,  # where in the file beat 0 is (last_bars)
                "notes_seconds": [
                    [n.pitch, n.velocity, round(n.onset, 4), round(n.offset - n.onset, 4)]
                    for n in found
                ],
            },
            name="timing",
        )


GRIDS = {"off": 0.0, "1/4": 1.0, "1/8": 0.5, "1/16": 0.25, "1/32": 0.125}


def to_beats(notes: list[SecondsNote], tempo: float, quantize: str = "off") -> list[Note]:
    """Seconds to beats at `tempo` (the recording's time 0 is beat 0), optionally snapped to
    a grid; a snapped note keeps at least one grid step."""
    per_second = tempo / 60.0
    grid = GRIDS[quantize]
    out = []
    for n in notes:
        start, end = n.onset * per_second, n.offset * per_second
        if grid:
            start = round(start / grid) * grid
            end = max(start + grid, round(end / grid) * grid)
        out.append(Note(n.pitch, n.velocity, round(start, 6), round(end - start, 6)))
    return out


def one_at_a_time(notes: list[Note]) -> list[Note]:
    """Beat-grid notes with no two sounding at once: of notes starting together the loudest
    stays, and a note that starts while another sounds cuts it short."""
    out: list[Note] = []
    for note in sorted(notes, key=lambda n: (n.start, -n.velocity)):
        if out and abs(out[-1].start - note.start) < 1e-9:
            continue
        if out and out[-1].start + out[-1].duration > note.start:
            prev = out.pop()
            out.append(Note(prev.pitch, prev.velocity, prev.start, note.start - prev.start))
        out.append(note)
    return out


@host.hookimpl
def register_models() -> Iterator[Model]:
    yield NoteTranscriber()


_DATA = Path(__file__).resolve().parents[2] / "data" / "transcribe"


@host.hookimpl
def register_tasks() -> Iterator[host.Task]:
    yield host.Task.lazy(
        "train", "transcribe", "Train the note transcription network", "plugins.transcribe.train"
    )
    yield host.Task.lazy(
        "eval",
        "transcribe",
        "Note F1 and pitch accuracy on held-out renders vs a pyin baseline",
        "plugins.transcribe.evaluate",
        # the held-out renders are built on this machine (FluidSynth), not shipped; the
        # corpus parse (~4 min) is most of it
        data=host.DataNeed(_DATA / "test", "plugins.transcribe.build_data", 5, ("--train", "0")),
    )
    yield host.Task.lazy(
        "bench",
        "transcribe",
        "Real-time factor of transcription on a 3-minute track",
        "benchmarks.bench_transcribe",
    )
