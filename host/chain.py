"""Chains: one request whose input another model makes first, e.g. a `continue` whose primer is
what `transcribe` heard in a recording ("hum a phrase, get a continuation").

A front-end puts a `Step` where an input's value would be (OSC `primer_from transcribe`,
WebSocket `"primer": {"from": "transcribe", ...}`); the core runs the steps in order, then the
addressed model with each step's result as that input. The client sees ONE request:

- one `accepted` (for the addressed model), one `done` or `error`, under the client's id;
- `progress` over the whole chain: the steps fill the first `STEPS_SHARE` of the bar, their
  messages prefixed with the step's model ("transcribe: transcribing");
- the steps' outputs first, renamed `<step-model>.<name>` (`transcribe.midi`,
  `transcribe.timing`); a step's notes come back as one data output
  (`transcribe.notes`, `{"notes": [[pitch, velocity, start, duration], ...]}`), so the wires'
  note messages (`/dawhost/note`, timed MIDI) carry only the final answer;
- an error in a step names the step ("step 'transcribe' (making 'primer'): ...", field
  `transcribe.<field>`); everything is checked before the first step runs, so a bad option
  of the last model costs no transcription;
- cancel (the client's id) stops whichever part is running; no later part starts;
- `done`'s provenance is the last model's, with each step's under `"steps"`.

Each part is an ordinary job (queue limits, timeouts, workers, the work folder's quota).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import TYPE_CHECKING, Any

from host.errors import DawhostError, ErrorCode
from host.model import Capability, InputKind
from host.outputs import AudioOutput, DataOutput, Note, NotesOutput, Output
from host.request_parsing import resolve_verb
from host.requests import Accepted, Done, Error, Event, OutputEvent, Progress, Request, Step

if TYPE_CHECKING:
    from host.core import Core
    from host.engine import Sink

STEPS_SHARE = 0.3  # of the progress bar; the addressed model (the slow part) gets the rest
MAX_DEPTH = 3  # steps of steps of steps: more is a client's mistake, not music
# Which verbs make what an input of each kind takes.
FEEDS = {
    InputKind.NOTES: frozenset({Capability.CONTINUE_MIDI, Capability.TRANSCRIBE}),
    InputKind.AUDIO_FILE: frozenset({Capability.RENDER_AUDIO, Capability.SING, Capability.SPEAK}),
}


def has_steps(request: Request) -> bool:
    return any(isinstance(value, Step) for value in request.inputs.values())


def steps_of(request: Request) -> list[tuple[str, Step]]:
    return [(name, value) for name, value in request.inputs.items() if isinstance(value, Step)]


def step_request(core: Core, parent: Request, step: Step) -> Request:
    """The request one step runs as: the parent's id, client, wire and seed."""
    model = core.models.get(step.model_id)
    verb = resolve_verb(model, step.verb) if model else str(step.verb or "")
    return Request(
        request_id=parent.request_id,
        model_id=step.model_id,
        verb=verb,
        options=dict(step.options),
        inputs=dict(step.inputs),
        seed=parent.seed,
        client=parent.client,
        frontend=parent.frontend,
    )


def in_step(exc: DawhostError, name: str, model_id: str) -> DawhostError:
    """A step's refusal or failure, saying which step it was."""
    field = f"{model_id}.{exc.field}" if exc.field else None
    message = f"step {model_id!r} (making {name!r}): {exc.message}"
    return DawhostError(exc.code, message, field)


def validate(core: Core, request: Request, depth: int = 0) -> None:
    """Check a whole chain before any of it runs; raises the first DawhostError."""
    steps = steps_of(request)
    core.build_job(request, chained=frozenset(name for name, _ in steps))
    model = core.models[request.model_id]  # build_job found it
    specs = {spec.name: spec for spec in model.inputs}
    for name, step in steps:
        if depth >= MAX_DEPTH:
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                f"input {name!r}: chains go at most {MAX_DEPTH} steps deep",
                name,
            )
        kind = specs[name].kind
        sub = _checked_step(core, request, name, step)
        makers = FEEDS.get(kind, frozenset())
        if sub.model_id in core.models and Capability.from_verb(sub.verb) not in makers:
            can = ", ".join(sorted(cap.verb for cap in makers)) or "nothing"
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                f"input {name!r} of {model.model_id!r} takes {kind.value}, which "
                f"{step.model_id!r} does not make when it {sub.verb}s; models that "
                f"{can} can make it",
                f"{name}_from",
            )
        try:
            validate(core, sub, depth + 1)
        except DawhostError as exc:
            raise in_step(exc, name, step.model_id) from None


def _checked_step(core: Core, parent: Request, name: str, step: Step) -> Request:
    try:
        return step_request(core, parent, step)
    except DawhostError as exc:
        raise in_step(exc, name, step.model_id) from None


class ChainRun:
    """Runs one request with steps as a sequence of ordinary jobs, reporting it as one."""

    def __init__(self, core: Core, request: Request, sink: Sink) -> None:
        self.core = core
        self.request = request
        self.sink = sink
        self.steps = steps_of(request)
        self.filled = {k: v for k, v in request.inputs.items() if not isinstance(v, Step)}
        self.index = 0  # the step running; len(steps): the addressed model
        self.outputs = 0
        self.finished = False
        self.started = time.monotonic()
        self.made: list[Output] = []  # the running step's outputs
        self.provenance: list[dict[str, Any]] = []

    @property
    def rid(self) -> str:
        return self.request.request_id

    def start(self) -> None:
        try:
            validate(self.core, self.request)
        except DawhostError as exc:
            self._finish(Error.from_exception(self.rid, exc))
            return
        self._next()

    def _next(self) -> None:
        if self.index < len(self.steps):
            name, step = self.steps[self.index]
            self.made = []
            sub = step_request(self.core, self.request, step)
            self.core.run_part(sub, functools.partial(self._on_step, name, step.model_id))
        else:
            main = dataclasses.replace(self.request, inputs=self.filled)
            self.core.run_part(main, self._on_main)

    # --- events of a step ---------------------------------------------------------------------
    def _on_step(self, name: str, model_id: str, event: Event) -> None:
        if self.finished:
            return
        share = STEPS_SHARE / len(self.steps)
        low = share * self.index
        if isinstance(event, Accepted):
            if self.index == 0:
                self.sink(Accepted(self.rid, self.request.model_id, event.queue_position))
        elif isinstance(event, Progress):
            message = f"{model_id}: {event.message}" if event.message else model_id
            self.sink(Progress(self.rid, low + share * event.fraction, message))
        elif isinstance(event, OutputEvent):
            self.made.append(event.output)
            if not isinstance(event.output, NotesOutput):  # notes: one data output at the end
                renamed = dataclasses.replace(event.output, name=f"{model_id}.{event.output.name}")
                self._forward(renamed)
        elif isinstance(event, Error):
            field = f"{model_id}.{event.field}" if event.field else None
            message = f"step {model_id!r} (making {name!r}): {event.message}"
            self._finish(Error(self.rid, event.code, message, field))
        elif isinstance(event, Done):
            self.provenance.append({"input": name, **event.provenance})
            try:
                self.filled[name] = self._input_from(name, model_id)
            except DawhostError as exc:
                self._finish(Error.from_exception(self.rid, exc))
                return
            self.index += 1
            self._next()

    def _input_from(self, name: str, model_id: str) -> Any:
        """What a finished step made, as the value of input `name` (notes or an audio path)."""
        notes = [o for o in self.made if isinstance(o, NotesOutput)]
        if notes:
            first = notes[0].name  # variations come as notes-1, notes-2...: take the first
            chosen: list[Note] = [n for o in notes if o.name == first for n in o.notes]
            data = {"notes": [n.as_list() for n in chosen]}
            self._forward(
                DataOutput(data, name=f"{model_id}.{first}", provenance=notes[0].provenance)
            )
            if chosen:
                return [n.as_list() for n in chosen]
        audio = [o for o in self.made if isinstance(o, AudioOutput) and o.path is not None]
        if audio and not notes:
            return str(audio[0].path)
        what = "notes" if notes or not audio else "audio"
        raise DawhostError(
            ErrorCode.BAD_INPUT,
            f"step {model_id!r} (making {name!r}) made no {what}, so there is nothing to "
            f"give {self.request.model_id!r} as {name!r} (silence, or too quiet a recording?)",
            name,
        )

    # --- events of the addressed model --------------------------------------------------------
    def _on_main(self, event: Event) -> None:
        if self.finished:
            return
        if isinstance(event, Accepted):
            if event.queue_position:
                where = f"{self.request.model_id}: queued (position {event.queue_position})"
                self.sink(Progress(self.rid, STEPS_SHARE, where))
        elif isinstance(event, Progress):
            fraction = STEPS_SHARE + (1.0 - STEPS_SHARE) * event.fraction
            self.sink(Progress(self.rid, fraction, event.message))
        elif isinstance(event, OutputEvent):
            self._forward(event.output)
        elif isinstance(event, Done):
            provenance = {**event.provenance, "steps": self.provenance}
            elapsed = time.monotonic() - self.started
            self._finish(Done(self.rid, elapsed, self.outputs, provenance))
        elif isinstance(event, Error):
            self._finish(event)

    def _forward(self, output: Output) -> None:
        self.sink(OutputEvent(self.rid, output, self.outputs))
        self.outputs += 1

    def _finish(self, event: Done | Error) -> None:
        self.finished = True
        self.sink(event)
