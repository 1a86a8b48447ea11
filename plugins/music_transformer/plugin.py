"""The `music-transformer` model for dawhost: continue a primer (notes in beats or a MIDI file)
for N bars, streaming notes as they are sampled, in beats relative to the primer's end."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import host
from host import (
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
from host.smf import MIDI_MEDIA_TYPE, Timeline, continuation_smf
from plugins.music_transformer.events import (
    KEY_STRENGTH_MAX,
    SHIFT_STEPS,
    STEP_SECONDS,
    STYLES,
    TIME_SHIFT,
    EventDecoder,
    TimedNote,
    encode,
    style_token,
    velocity_after,
)

if TYPE_CHECKING:
    from plugins.music_transformer.generate import Continuation, SamplingSettings
    from plugins.music_transformer.model import MusicTransformer

Style = Literal["any", "auto", "bach", "palestrina", "renaissance", "irish", "essen", "classical"]
Grid = Literal["off", "1/4", "1/8", "1/16", "1/8t", "1/16t"]
GRID_BEATS = {"1/4": 1.0, "1/8": 0.5, "1/16": 0.25, "1/8t": 1 / 3, "1/16t": 1 / 6}
MAX_PRIMER_BEATS = 2048.0
assert set(STYLES) | {"auto"} == set(get_args(Style))  # one list of styles


def quantize_notes(notes: list[Note], grid: str) -> list[Note]:
    """Snap starts and ends to the grid (in beats); a note keeps at least one grid step."""
    if grid == "off":
        return notes
    step = GRID_BEATS[grid]
    snapped = []
    for note in notes:
        start = round(note.start / step) * step
        end = max(start + step, round((note.start + note.duration) / step) * step)
        snapped.append(Note(note.pitch, note.velocity, round(start, 6), round(end - start, 6)))
    return snapped


def quantize_within(notes: list[Note], grid: str, end_beat: float) -> list[Note]:
    """`quantize_notes`, then cut again at `end_beat`: snapping can move a start onto the
    last bar line or an end past it."""
    return [
        replace(n, duration=round(min(n.duration, end_beat - n.start), 6))
        for n in quantize_notes(notes, grid)
        if n.start < end_beat
    ]


class MusicTransformerOptions(host.Options):
    bars: int = Field(4, ge=1, le=32, description="Length of the continuation in bars")
    temperature: float = Field(
        1.0, ge=0.1, le=2.0, description="Sampling temperature (lower: safer, repetitive)"
    )
    top_k: int = Field(
        0, ge=0, le=200, description="Sample among the k likeliest events (0: no limit)"
    )
    top_p: float = Field(0.95, ge=0.1, le=1.0, description="Nucleus sampling mass (1.0: no limit)")
    style: Style = Field(
        "any",
        description="Style token: a composer or collection; auto = the style the network "
        "finds likeliest for the primer (its probabilities come back as a 'style' output)",
    )
    quantize: Grid = Field("off", description="Snap generated notes to this grid (beats)")
    variations: int = Field(
        1, ge=1, le=4, description="Continuations sampled in one batch (named notes-1..)"
    )
    well_formed: bool = Field(
        True, description="Never sample an off for a silent pitch or a restrike (clean MIDI)"
    )
    longest_note: float = Field(
        4.0,
        ge=0.25,
        le=64.0,
        description="With well_formed, no generated note is held longer than this (beats)",
    )
    key_strength: float = Field(
        0.0,
        ge=0.0,
        le=KEY_STRENGTH_MAX,
        description="Key prior: pull the notes towards the primer's pitch classes, weighted "
        "by how long each sounds (0: off, the network alone; 1: a pitch class the primer "
        "never plays is ~11x less likely than one it plays a fifth of the time, 2: ~120x). "
        "Only which pitch changes, not how many notes",
    )
    candidates: int = Field(
        1,
        ge=1,
        le=8,
        description="Sample this many continuations per variation and keep the one whose "
        "pitch classes agree most with the others and the primer (truer to the key; slower, "
        "and the notes come when the whole continuation is chosen)",
    )
    chunk: Literal["note", "bar"] = Field(
        "note", description="Send each note as it completes, or whole bars"
    )
    dynamics: Literal["phrase", "model"] = Field(
        "phrase",
        description="Velocities: phrase = follow the primer's dynamics (its level and where it "
        "was heading, its accents, louder high notes, its phrase's swell; the network hears "
        "the primer at one velocity, as its corpus plays); model = the network's own velocity "
        "events (its corpus has no dynamics: it keeps the primer's last velocity)",
    )
    include_primer: bool = Field(
        True,
        description="The MIDI file output ('midi') holds the primer too, where it was; "
        "the continuation follows it on the primer's timeline either way",
    )


def sampling_settings(
    options: MusicTransformerOptions, seconds_per_beat: float
) -> SamplingSettings:
    """How the network samples for these options at this tempo (the evaluation reads the
    defaults here)."""
    from plugins.music_transformer.generate import SamplingSettings

    return SamplingSettings(
        options.temperature,
        options.top_k,
        options.top_p,
        options.well_formed,
        options.key_strength,
        max_hold_seconds=options.longest_note * seconds_per_beat,
    )


class MusicTransformerModel(Model[MusicTransformerOptions]):
    model_id = "music-transformer"
    capabilities = frozenset({Capability.CONTINUE_MIDI})
    inputs = (
        InputSpec(
            "primer",
            InputKind.NOTES,
            "The phrase to continue: notes in beats, or a MIDI file. Its last events are the "
            "model's context (longer primers are cut from the start).",
            skip_drums=True,
        ),
    )
    causal = True
    description = (
        "Music Transformer (relative attention, KV-cached sampling) trained on the music21 "
        "corpus; continues a primer for N bars, streaming notes"
    )
    default_checkpoint = Path(__file__).resolve().parent / "checkpoints" / "music_transformer.pt"

    def __init__(self) -> None:
        super().__init__()
        self.network: MusicTransformer | None = None

    def load(self) -> None:
        import torch

        from plugins.music_transformer.checkpoint import load_weights

        assert self.checkpoint_file is not None  # and it exists: ensure_loaded checked
        # One intra-op thread: sampling is a chain of small ops, where threading only costs.
        torch.set_num_threads(1)
        self.network, _ = load_weights(self.checkpoint_file)

    def run(
        self, job: host.Job[MusicTransformerOptions]
    ) -> Iterator[NotesOutput | DataOutput | FileOutput]:
        from plugins.music_transformer.generate import Continuation

        options = job.options
        primer = self._primer(job.inputs.get("primer"))
        # A MIDI file brings its own timeline (tempo, signature, bars from its start): the
        # answer starts on its first bar line after the primer, and its file keeps that time.
        # Notes sent over the wire live on the transport's, and the answer follows at once.
        from_file = job.timelines.get("primer")
        timeline = from_file or Timeline(
            job.transport.tempo, job.transport.numerator, job.transport.denominator
        )
        seconds_per_beat = 60.0 / timeline.tempo
        primer_end = max(n.start + n.duration for n in primer)
        start_beat = timeline.next_bar(primer_end) if from_file else primer_end
        origin = min(n.start for n in primer)
        timed = [
            TimedNote(
                n.pitch,
                n.velocity,
                (n.start - origin) * seconds_per_beat,
                n.duration * seconds_per_beat,
            )
            for n in primer
        ]
        # With phrase dynamics the network hears the primer as its corpus plays (every note
        # at one velocity): velocity events it never saw in training derail its pitch choices
        # (dynamics_eval: pitch-class overlap 0.61 performed vs 0.72 flattened); the phrase
        # fit below reads the real velocities.
        heard = timed
        if options.dynamics == "phrase":
            from plugins.music_transformer.style_classifier import as_score

            heard = as_score(timed)
        # The rest up to the answer's first bar line, so the model hears that silence too.
        tokens = encode(heard) + rest_tokens((start_beat - primer_end) * seconds_per_beat)
        # The continuation's time 0 is the primer's end, which is where its events stop.
        style: str = options.style
        if style == "auto":
            from plugins.music_transformer.style_classifier import classify

            assert self.network is not None
            probabilities = classify(self.network, timed)
            style = next(iter(probabilities))
            yield DataOutput(
                {
                    "style": style,
                    "probabilities": {k: round(v, 4) for k, v in probabilities.items()},
                },
                name="style",
            )
        prefix = [style_token(style)] + tokens
        settings = sampling_settings(options, seconds_per_beat)
        count = options.variations
        assert self.network is not None  # set by load()
        rows = count * options.candidates
        continuation = Continuation(self.network, prefix, rows, settings, job.seed)
        if continuation.truncated:
            kept = len(tokens) - continuation.truncated
            message = (
                f"primer has {len(tokens)} events, more than fit the model's context; "
                f"continuing from its last {kept} events"
            )
            # Progress events are throttled, so the warning also travels as an output.
            job.progress(0.0, message)
            yield DataOutput(
                {"primer_events": len(tokens), "kept_events": kept, "message": message},
                name="primer-truncated",
            )
        beats_per_bar = timeline.beats_per_bar
        total_beats = options.bars * beats_per_bar
        phrase = None
        if options.dynamics == "phrase":
            phrase = phrase_velocity(primer, beats_per_bar, primer_end, start_beat)
        made: dict[str, list[Note]] = {}
        sampled = self._sample(
            job, continuation, rows, total_beats, beats_per_bar, seconds_per_beat, phrase
        )
        if options.candidates > 1:
            sampled = _chosen(sampled, [n.pitch for n in primer], count, options.candidates)
        for output in sampled:
            made.setdefault(output.name, []).extend(output.notes)
            yield output
        for name, notes in made.items():
            path = job.output_path(name.replace("notes", "midi"), ".mid")
            path.write_bytes(
                continuation_smf(primer, notes, start_beat, timeline, options.include_primer)
            )
            yield FileOutput(path, MIDI_MEDIA_TYPE, name=name.replace("notes", "midi"))

    @staticmethod
    def _primer(notes: object) -> list[Note]:
        if notes is None:
            raise BadInput("primer", "is missing; send notes or a MIDI file path")
        if not isinstance(notes, list) or not all(isinstance(n, Note) for n in notes):
            raise BadInput("primer", "must be a list of notes or a MIDI file path")
        if not notes:
            raise BadInput("primer", "is empty; send at least one note to continue")
        for index, note in enumerate(notes):
            if not 0 <= note.pitch <= 127 or not 1 <= note.velocity <= 127:
                raise BadInput(
                    "primer",
                    f"note {index} has pitch {note.pitch} / velocity "
                    f"{note.velocity}; pitch must be 0..127 and velocity 1..127",
                )
            if not (math.isfinite(note.start) and math.isfinite(note.duration)):
                raise BadInput("primer", f"note {index} has a non-finite time")
        if (
            max(n.start + n.duration for n in notes) - min(n.start for n in notes)
            > MAX_PRIMER_BEATS
        ):
            raise BadInput("primer", f"spans more than {MAX_PRIMER_BEATS:g} beats")
        return notes

    def _sample(
        self,
        job: host.Job[MusicTransformerOptions],
        continuation: Continuation,
        count: int,
        total_beats: float,
        beats_per_bar: float,
        seconds_per_beat: float,
        phrase: Callable[[int, float], int] | None,
    ) -> Iterator[NotesOutput]:
        """Decode the streams into notes in beats; `phrase(pitch, beat)` replaces the
        network's velocities when given."""
        options = job.options
        grid: str = options.quantize
        by_bar = options.chunk == "bar"
        end_seconds = total_beats * seconds_per_beat
        # Generated notes inherit the primer's last velocity until the model sets a new one.
        velocity = velocity_after(continuation.history[0])
        decoders = [EventDecoder(velocity=velocity) for _ in range(count)]
        pending: list[list[Note]] = [[] for _ in range(count)]
        sent_bar = [0] * count
        names = ["notes"] if count == 1 else [f"notes-{i + 1}" for i in range(count)]
        # A runaway model that never advances time must still end: cap the number of events.
        max_events = int(400 * end_seconds) + 2048

        def beats(notes: list[TimedNote]) -> list[Note]:
            converted = []
            for n in notes:
                if n.start >= end_seconds:
                    continue
                duration = min(n.duration, end_seconds - n.start)
                start = n.start / seconds_per_beat
                level = n.velocity if phrase is None else phrase(n.pitch, start)
                converted.append(
                    Note(
                        n.pitch,
                        max(1, min(127, level)),
                        round(start, 6),
                        round(max(duration, 0.01) / seconds_per_beat, 6),
                    )
                )
            return quantize_within(converted, grid, total_beats)

        done = [False] * count
        for events, tokens in enumerate(continuation.stream(), 1):
            for i, token in enumerate(tokens):
                if done[i]:
                    continue
                pending[i].extend(beats(decoders[i].feed(token)))
                if decoders[i].time >= end_seconds or events >= max_events:
                    done[i] = True
                    pending[i].extend(beats(decoders[i].flush(at=end_seconds)))
                bar = int(decoders[i].time / seconds_per_beat // beats_per_bar)
                ready = done[i] or not by_bar or bar > sent_bar[i]
                if pending[i] and ready and not (done[i] and all(done)):
                    yield NotesOutput(sorted(pending[i], key=_order), names[i], final=False)
                    pending[i] = []
                sent_bar[i] = bar
            if events % 8 == 0 or all(done):
                elapsed = min(d.time for d in decoders) / end_seconds
                job.progress(min(1.0, elapsed), f"{events} events")
            if all(done):
                break
        for i in range(count):
            last = i == count - 1
            if pending[i] or last:
                yield NotesOutput(sorted(pending[i], key=_order), names[i], final=last)


def _chosen(
    sampled: Iterator[NotesOutput], primer: list[int], count: int, candidates: int
) -> Iterator[NotesOutput]:
    """Of the `count * candidates` sampled streams (variation v's candidates are rows
    v*candidates ..), keep one per variation: the consensus pick. Yields each variation's
    notes once all of them are sampled, named as without candidates."""
    from plugins.music_transformer.continuations import consensus_pick

    # _sample names its rows notes-1 .. (there are at least two); a row may yield nothing
    by_row: dict[str, list[Note]] = {f"notes-{i + 1}": [] for i in range(count * candidates)}
    for output in sampled:
        by_row[output.name].extend(output.notes)
    rows = list(by_row.values())
    names = ["notes"] if count == 1 else [f"notes-{i + 1}" for i in range(count)]
    for variation, name in enumerate(names):
        group = rows[variation * candidates : (variation + 1) * candidates]
        keep = consensus_pick([[n.pitch for n in notes] for notes in group], primer)
        yield NotesOutput(sorted(group[keep], key=_order), name, final=variation == count - 1)


def phrase_velocity(
    primer: list[Note], beats_per_bar: float, primer_end: float, start_beat: float
) -> Callable[[int, float], int]:
    """velocity(pitch, beat from the continuation's start) following the primer's dynamics,
    with bar lines where the primer's timeline has them (its beat 0 is a bar line)."""
    from plugins.music_transformer.dynamics import fit

    dynamics = fit(
        [n.pitch for n in primer],
        [n.velocity for n in primer],
        [n.start for n in primer],
        beats_per_bar,
        end_beat=primer_end,
    )
    return lambda pitch, beat: dynamics.velocity(pitch, start_beat + beat)


def rest_tokens(seconds: float) -> list[int]:
    """Time-shift tokens for a silence of `seconds` (nothing for less than one step)."""
    steps = round(seconds / STEP_SECONDS)
    tokens = []
    while steps > 0:
        jump = min(SHIFT_STEPS, steps)
        tokens.append(TIME_SHIFT + jump - 1)
        steps -= jump
    return tokens


def _order(note: Note) -> tuple[float, int]:
    return (note.start, note.pitch)


@host.hookimpl
def register_models() -> Iterator[Model]:
    yield MusicTransformerModel()


_DATA = Path(__file__).resolve().parents[2] / "data" / "music_transformer"


@host.hookimpl
def register_tasks() -> Iterator[host.Task]:
    yield host.Task.lazy(
        "train",
        "music-transformer",
        "Train the relative (or --absolute baseline) Music Transformer on the music21 corpus",
        "plugins.music_transformer.train",
    )
    yield host.Task.lazy(
        "eval",
        "music-transformer",
        "Test NLL vs absolute-position and n-gram baselines; continuation statistics",
        "plugins.music_transformer.evaluate",
        data=host.DataNeed(_DATA / "pieces.pkl", "plugins.music_transformer.corpus", 20),
    )
    yield host.Task.lazy(
        "bench",
        "music-transformer",
        "Events/s KV-cached vs full recompute; time to first event with a 512-event primer",
        "benchmarks.bench_music_transformer",
    )
