"""A plugin module for client tests: the host's fakes plus a fake stem splitter and a fake
singer, so every verb a Max patch or the browser page sends has a model to answer it.

Listed in a test manifest as `module = "tests.clients.fake_models"`; no torch, loads instantly.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from typing import Literal

import numpy as np

import host
from host import (
    AudioOutput,
    BadInput,
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
from host.outputs import StemsOutput
from host.smf import MIDI_MEDIA_TYPE, write_smf
from tests.fakes import EchoContinuer, FailingModel, FakeTranscriber, SineRenderer, SlowModel

STEM_NAMES = ("vocals", "drums", "bass", "other")


def read_wav(path: object) -> tuple[np.ndarray, int]:
    """Mono float samples of a 16-bit PCM WAV file (what the fakes write)."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise BadInput("audio", f"{path} is not a PCM WAV file ({exc})") from None
    if width != 2:
        raise BadInput("audio", f"{path} has {8 * width}-bit samples; send 16-bit PCM")
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    return samples.reshape(-1, channels).mean(axis=1), rate


class BandSplitter(Model):
    """Splits a WAV file into four "stems" by frequency band (a stand-in for separation)."""

    model_id = "fake-stems"
    capabilities = frozenset({Capability.SEPARATE_STEMS})
    inputs = (InputSpec("audio", InputKind.AUDIO_FILE, "a WAV file to split"),)
    description = "Splits audio into four frequency bands named like stems (test model)"

    class Options(host.Options):
        gain: float = Field(1.0, ge=0.0, le=2.0, description="Gain applied to every stem")

    def run(self, job: host.Job) -> Iterator[StemsOutput]:
        options: BandSplitter.Options = job.options  # type: ignore[assignment]
        samples, rate = read_wav(job.inputs["audio"])
        if samples.size == 0:
            raise BadInput("audio", "the file has no samples")
        spectrum = np.fft.rfft(samples)
        edges = np.linspace(0, spectrum.size, len(STEM_NAMES) + 1).astype(int)
        stems = {}
        for index, name in enumerate(STEM_NAMES):
            job.progress((index + 1) / len(STEM_NAMES), name)
            band = np.zeros_like(spectrum)
            band[edges[index] : edges[index + 1]] = spectrum[edges[index] : edges[index + 1]]
            audio = np.fft.irfft(band, n=samples.size) * options.gain
            stems[name] = AudioOutput(rate, samples=audio.astype(np.float32), name=name)
        yield StemsOutput(stems)


class HummingSinger(Model):
    """Hums one sine syllable per lyric word on the given notes (a stand-in for vocal_tts)."""

    model_id = "fake-singer"
    capabilities = frozenset({Capability.SING})
    inputs = (
        InputSpec("lyrics", InputKind.TEXT, "words, one per note"),
        InputSpec("notes", InputKind.NOTES, "the melody"),
    )
    sample_rate = 8000
    description = "Hums a sine per word on the melody (test model)"

    class Options(host.Options):
        voice: Literal["alto", "tenor"] = Field("alto", description="Voice register")
        vibrato: float = Field(0.0, ge=0.0, le=1.0, description="Vibrato depth in semitones")

    def run(self, job: host.Job) -> Iterator[AudioOutput | DataOutput]:
        options: HummingSinger.Options = job.options  # type: ignore[assignment]
        words = str(job.inputs["lyrics"]).split()
        notes = job.inputs["notes"]
        if not words:
            raise BadInput("lyrics", "no words to sing")
        if len(words) > len(notes):
            raise BadInput("lyrics", f"{len(words)} words but only {len(notes)} notes")
        spb = job.transport.seconds_per_beat
        end = max(n.start + n.duration for n in notes) * spb
        t = np.arange(int(end * self.sample_rate) + 1) / self.sample_rate
        audio = np.zeros_like(t)
        octave = 0 if options.voice == "alto" else -12
        for note in notes[: len(words)]:
            mask = (t >= note.start * spb) & (t < (note.start + note.duration) * spb)
            semitones = note.pitch + octave - 69 + options.vibrato * np.sin(2 * np.pi * 5 * t[mask])
            phase = 2 * np.pi * np.cumsum(440.0 * 2 ** (semitones / 12)) / self.sample_rate
            audio[mask] = 0.5 * np.sin(phase)
        job.progress(1.0)
        yield AudioOutput(self.sample_rate, samples=audio.astype(np.float32), name="vocal")
        # Each word's timing, shaped like vocal-tts's (the page draws them on the waveform).
        syllables = [
            {
                "syllable": i,
                "word": word,
                "start_beat": note.start,
                "end_beat": note.start + note.duration,
                "start_seconds": note.start * spb,
                "end_seconds": (note.start + note.duration) * spb,
                "pitch": float(note.pitch),
            }
            for i, (word, note) in enumerate(zip(words, notes, strict=False))
        ]
        yield DataOutput({"tempo": 60 / spb, "syllables": syllables}, name="syllables")


def midi_file_notes(path: object) -> list[Note]:
    """The notes of a MIDI file, in beats."""
    import mido

    song = mido.MidiFile(str(path))
    notes, sounding, now = [], {}, 0
    for message in mido.merge_tracks(song.tracks):
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            sounding[message.note] = (now, message.velocity)
        elif message.type in ("note_on", "note_off") and message.note in sounding:
            start, velocity = sounding.pop(message.note)
            beat = song.ticks_per_beat
            notes.append(Note(message.note, velocity, start / beat, (now - start) / beat))
    if not notes:
        raise BadInput("primer", f"{path} holds no notes")
    return notes


class Varier(Model):
    """Continues a phrase `variations` times, each variation transposed up by its number, as
    separate note streams (notes-1, notes-2, ...) and a MIDI file each (midi-1, ...), the way
    music-transformer answers `variations`."""

    model_id = "fake-variations"
    capabilities = frozenset({Capability.CONTINUE_MIDI})
    inputs = (InputSpec("primer", InputKind.NOTES, "notes to vary"),)
    causal = True
    description = "Repeats the primer once per variation, transposed (test model)"

    class Options(host.Options):
        variations: int = Field(3, ge=1, le=4, description="How many continuations")
        gap: float = Field(0.0, ge=0.0, le=4.0, description="Beats of rest before each")

    def run(self, job: host.Job) -> Iterator[NotesOutput | FileOutput]:
        options: Varier.Options = job.options  # type: ignore[assignment]
        primer = job.inputs["primer"]
        if not isinstance(primer, list):  # a MIDI file's path
            primer = midi_file_notes(primer)
        first = min(n.start for n in primer)
        count = options.variations
        made: dict[str, list[Note]] = {}
        for index, note in enumerate(sorted(primer, key=lambda n: n.start)):
            job.progress((index + 1) / len(primer))
            for v in range(1, count + 1):
                name = "notes" if count == 1 else f"notes-{v}"
                start = note.start - first + options.gap
                moved = Note(note.pitch + v, note.velocity, start, note.duration)
                made.setdefault(name, []).append(moved)
                yield NotesOutput([moved], name, final=False)
        for name, notes in made.items():
            path = job.output_path(name.replace("notes", "midi"), ".mid")
            write_smf(path, notes, job.transport.tempo)
            yield FileOutput(path, MIDI_MEDIA_TYPE, name=name.replace("notes", "midi"))


class QuietRenderer(SineRenderer):
    """SineRenderer at -40 dBFS by default: how quiet real renders can be."""

    model_id = "fake-quiet"

    class Options(host.Options):
        bars: int = Field(1, ge=1, le=8, description="Length in bars")
        gain: float = Field(0.01, ge=0.0, le=1.0, description="Output gain")


class BarsEcho(Model):
    """Echoes the primer over and over for `bars` bars (4/4), one note per output, with the
    options music-transformer's chain request sends (`bars`, `style`): a stand-in for it."""

    model_id = "fake-bars-echo"
    capabilities = frozenset({Capability.CONTINUE_MIDI})
    inputs = (InputSpec("primer", InputKind.NOTES, "notes to echo"),)
    causal = True
    description = "Repeats the primer until `bars` bars are full (test model)"

    class Options(host.Options):
        bars: int = Field(1, ge=1, le=8, description="Length in bars")
        style: Literal["any", "auto"] = Field("any", description="auto: reports a style")

    def run(self, job: host.Job) -> Iterator[NotesOutput | DataOutput]:
        options: BarsEcho.Options = job.options  # type: ignore[assignment]
        primer = sorted(job.inputs["primer"], key=lambda n: n.start)
        if options.style == "auto":
            yield DataOutput({"style": "echo", "probabilities": {"echo": 1.0}}, name="style")
        first = primer[0].start
        length = max(n.start + n.duration for n in primer) - first
        end, shift = 4.0 * options.bars, 0.0
        while shift < end:
            for note in primer:
                start = note.start - first + shift
                if start < end:
                    job.progress(start / end)
                    moved = Note(note.pitch, note.velocity, start, note.duration)
                    yield NotesOutput([moved], final=False)
            shift += length


class ClickCounter(Model):
    """Finds the clicks of a click track (rises of the 10 ms level above `threshold`): each is
    a beat, the tempo is 60 / their median spacing, every `beats_per_bar`-th is a downbeat;
    answers like `analyze` (the same data keys) and can set the transport (a stand-in)."""

    model_id = "fake-analyze"
    capabilities = frozenset({Capability.ANALYZE})
    inputs = (InputSpec("audio", InputKind.AUDIO_FILE, "a click track (WAV)"),)
    description = "Tempo and beats of a click track (test model)"

    class Options(host.Options):
        apply_to_transport: bool = Field(False, description="Set the transport to it")
        meter: Literal["auto", "3/4", "4/4", "6/8"] = Field("auto", description="auto: 4/4")
        threshold: float = Field(0.05, ge=0.0, le=1.0, description="Level a click reaches")

    def run(self, job: host.Job) -> Iterator[DataOutput]:
        import soundfile

        audio, rate = soundfile.read(str(job.inputs["audio"]), always_2d=True)
        mono = np.abs(audio.mean(axis=1))
        hop = max(1, rate // 100)
        level = np.array([mono[i : i + hop].max() for i in range(0, len(mono), hop)])
        loud = level > job.options.threshold
        beats = [
            i * hop / rate for i in range(len(loud)) if loud[i] and (i == 0 or not loud[i - 1])
        ]
        if len(beats) < 2:
            raise BadInput("audio", "found fewer than two clicks")
        tempo = 60.0 / float(np.median(np.diff(beats)))
        meter = "4/4" if job.options.meter == "auto" else job.options.meter
        numerator, denominator = (int(x) for x in meter.split("/"))
        per_bar = {"3/4": 3, "4/4": 4, "6/8": 2}[meter]
        quarters = 1.5 if meter == "6/8" else 1.0
        yield DataOutput(
            {
                "tempo": round(tempo, 3),
                "quarter_tempo": round(tempo * quarters, 3),
                "signature": [numerator, denominator],
                "beats_per_bar": per_bar,
                "beats_seconds": [round(b, 4) for b in beats],
                "beats": [round(i * quarters, 4) for i in range(len(beats))],
                "downbeats_seconds": [round(b, 4) for b in beats[::per_bar]],
                "downbeats": [
                    round(i * quarters * per_bar, 4) for i in range(len(beats[::per_bar]))
                ],
                "seconds": round(len(mono) / rate, 4),
            },
            name="analysis",
        )
        if job.options.apply_to_transport:
            yield host.TransportChange(
                tempo=round(tempo * quarters, 3), numerator=numerator, denominator=denominator
            )


@host.hookimpl
def register_models() -> Iterator[Model]:
    yield EchoContinuer()
    yield SineRenderer()
    yield SlowModel()
    yield FailingModel()
    yield BandSplitter()
    yield HummingSinger()
    yield Varier()
    yield QuietRenderer()
    yield FakeTranscriber()
    yield BarsEcho()
    yield ClickCounter()
