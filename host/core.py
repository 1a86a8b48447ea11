"""The neutral core every front-end talks to: validate a `Request` once, run it, stream events.

Front-ends decode their wire into a `Request` and call `submit(request, sink)` on the event
loop; validation errors and job events all arrive through the same sink, in the same shapes.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from host.chain import ChainRun, has_steps
from host.config import Manifest, ServerConfig
from host.engine import Engine, Sink
from host.errors import DawhostError, ErrorCode
from host.executor import make_executor
from host.job import Job
from host.model import Capability, InputKind, Model
from host.notes import parse_notes
from host.option_store import OptionStore
from host.options import check_length, validate_options
from host.outputs import TransportChange
from host.request_parsing import parse_seed
from host.requests import Error, Event, OutputEvent, Request
from host.scheduler import Scheduler
from host.transport import Transport, TransportSource
from host.workfolder import WorkFolder

log = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 10_000

EventListener = Callable[[Request, Event], None]
ModelListener = Callable[[str, Model | None], None]  # (model id, model or None when removed)


class Core:
    def __init__(
        self,
        config: ServerConfig,
        models: dict[str, Model] | None = None,
        manifest: Manifest | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.config = config
        self.manifest = manifest
        self.models: dict[str, Model] = dict(models or {})
        self.work = WorkFolder.for_server(
            config.work_dir, config.input_roots, config.loopback_only, config.jobs_quota
        )
        self.transport = transport or Transport()
        self.scheduler = Scheduler(self.transport)
        self.engine = Engine(
            make_executor(self.work, config.engine, thread_workers=config.workers),
            model_queue_limit=config.model_queue_limit,
            total_queue_limit=config.total_queue_limit,
            job_timeout=config.job_timeout,
            grace_period=config.engine.grace_period,
        )
        self.options = OptionStore()  # server-wide option defaults, shared by every wire
        # What running front-ends offer each other by name (the OSC front-end offers its packet
        # handler to OSCQuery's WebSocket), so no front-end imports another.
        self.services: dict[str, object] = {}
        self._event_listeners: list[EventListener] = []
        self._model_listeners: list[ModelListener] = []

    # --- models ----------------------------------------------------------------------------
    def exposed_models(self, frontend: str) -> list[Model]:
        """Models a front-end should offer, per the manifest's `expose` lists."""
        return [model for model in self.models.values() if self.is_exposed(model, frontend)]

    def is_exposed(self, model: Model, frontend: str) -> bool:
        """Whether `frontend` may offer `model` ("" for in-process callers: always)."""
        settings = self.manifest.models.get(model.model_id) if self.manifest else None
        return (
            not frontend
            or settings is None
            or settings.expose is None
            or (frontend in settings.expose)
        )

    def describe_models(self, frontend: str | None = None) -> list[dict[str, Any]]:
        models = self.exposed_models(frontend) if frontend else list(self.models.values())
        return [model.describe() for model in models]

    def add_model(self, model: Model) -> None:
        if model.model_id in self.models:
            raise ValueError(f"model id {model.model_id!r} is already registered")
        self.models[model.model_id] = model
        for listener in list(self._model_listeners):
            listener(model.model_id, model)

    def remove_model(self, model_id: str) -> None:
        if self.models.pop(model_id, None) is not None:
            self.options.forget(model_id)
            for listener in list(self._model_listeners):
                listener(model_id, None)

    def on_models_changed(self, listener: ModelListener) -> Callable[[], None]:
        self._model_listeners.append(listener)
        return lambda: self._model_listeners.remove(listener)

    def on_event(self, listener: EventListener) -> Callable[[], None]:
        """Observe every job event of every client (OSCQuery LISTEN, logs)."""
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    # --- requests --------------------------------------------------------------------------
    def submit(self, request: Request, sink: Sink) -> None:
        """Validate and queue a request; every outcome, errors included, goes to `sink`.
        Call on the event loop thread. Never raises for bad client input. A request with a
        `Step` as an input runs as a chain (`host.chain`), reported as one request."""

        def deliver(event: Event) -> None:
            sink(event)
            for listener in list(self._event_listeners):
                try:
                    listener(request, event)
                except Exception:
                    log.exception("event listener failed")

        self.run_part(request, deliver)

    def run_part(self, request: Request, sink: Sink) -> None:
        """`submit` without the event listeners: what a chain runs each of its parts with."""
        if has_steps(request):
            ChainRun(self, request, sink).start()
            return
        folder: Path | None = None

        def deliver(event: Event) -> None:
            # A result asking to change the transport (analyze's apply_to_transport) takes
            # effect before the client hears of it, chained or not.
            if isinstance(event, OutputEvent) and isinstance(event.output, TransportChange):
                self.apply_transport_change(event.output)
            sink(event)
            if event.type in ("done", "error") and folder is not None:  # jobs/ quota
                self.work.jobs.job_ended(folder, (a.job.folder for a in self.engine.active_jobs()))

        try:
            model, job = self.build_job(request)
            folder = job.folder
            self.engine.enqueue(model, job, request.client, deliver)
        except DawhostError as exc:
            deliver(Error.from_exception(request.request_id, exc))

    def apply_transport_change(self, change: TransportChange) -> bool:
        """Set the transport as a job's result asks (tempo, then signature), as a network
        source; note in the output's data whether it took effect and, if not, why."""
        reason = ""
        try:
            changed = True
            if change.tempo is not None:
                changed = self.transport.set_tempo(change.tempo, TransportSource.NETWORK)
            if changed and change.numerator is not None and change.denominator is not None:
                changed = self.transport.set_signature(
                    change.numerator, change.denominator, TransportSource.NETWORK
                )
            if not changed:
                reason = "MIDI clock or Link is driving the transport"
        except ValueError as exc:  # a tempo or signature the transport cannot take
            reason = str(exc)
        change.data["applied"] = not reason
        if reason:
            change.data["reason"] = reason
            log.info("transport change from a job not applied: %s", reason)
        return not reason

    def cancel(self, client: str, request_id: str) -> bool:
        return self.engine.cancel(client, str(request_id))

    def build_job(
        self, request: Request, chained: frozenset[str] = frozenset()
    ) -> tuple[Model, Job]:
        """Check a request against its model and make its job. `chained` names inputs another
        model makes first (a chain's steps): they are checked by `host.chain`, not here."""
        if not request.request_id:
            raise DawhostError(ErrorCode.BAD_REQUEST, "the request has no id; send one per request")
        model = self.models.get(request.model_id)
        if model is None or not self.is_exposed(model, request.frontend):
            known = ", ".join(sorted(m.model_id for m in self.exposed_models(request.frontend)))
            where = f" over {request.frontend}" if request.frontend and model else ""
            raise DawhostError(
                ErrorCode.UNKNOWN_MODEL,
                f"no model {request.model_id!r}{where}; available: {known or 'none loaded'}",
                field="model",
            )
        if Capability.from_verb(request.verb) not in model.capabilities:
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                f"model {model.model_id!r} does not {request.verb!r}; it can: "
                + ", ".join(model.verbs()),
                field="verb",
            )
        options = validate_options(
            model.Options, {**self.options.defaults(model), **request.options}, model.model_id
        )
        transport = self.transport.snapshot()
        check_length(options, transport.tempo, transport.beats_per_bar, model.model_id)
        inputs = self._check_inputs(model, request.verb, request.inputs, chained)
        seed = parse_seed(request.seed)
        if seed is None:
            seed = random.randrange(2**31)
        job = Job(
            request_id=str(request.request_id),
            model_id=model.model_id,
            verb=request.verb,
            options=options,
            inputs=inputs,
            seed=seed,
            transport=transport,
            folder=self.work.job_folder(request.client, str(request.request_id)),
            start_beat=request.start_beat,
        )
        return model, job

    def _check_inputs(
        self, model: Model, verb: str, values: dict[str, Any], chained: frozenset[str]
    ) -> dict[str, Any]:
        specs = {spec.name: spec for spec in model.inputs}
        for name in values:
            if name not in specs:
                known = ", ".join(specs) or "none"
                raise DawhostError(
                    ErrorCode.BAD_INPUT,
                    f"model {model.model_id!r} takes no input {name!r}; its inputs: {known}",
                    field=name,
                )
        checked: dict[str, Any] = {}
        for name, spec in specs.items():
            value = values.get(name)
            if name in chained:
                continue
            if value is None or value == "" or value == []:
                if spec.is_required(verb):
                    to = f" to {verb}" if not spec.required else ""
                    raise DawhostError(
                        ErrorCode.BAD_INPUT,
                        f"model {model.model_id!r} needs input {name!r}{to} ({spec.description})",
                        field=name,
                    )
                continue
            checked[name] = self._check_input(spec.kind, name, value)
        return checked

    def _check_input(self, kind: InputKind, name: str, value: Any) -> Any:
        if kind is InputKind.TEXT:
            if not isinstance(value, str):
                raise DawhostError(ErrorCode.BAD_INPUT, f"input {name!r} must be text", name)
            if len(value) > MAX_TEXT_LENGTH:
                raise DawhostError(
                    ErrorCode.BAD_INPUT,
                    f"input {name!r} has {len(value)} characters; at most {MAX_TEXT_LENGTH}",
                    name,
                )
            return value
        if kind is InputKind.NOTES and not isinstance(value, (str, Path)):
            return parse_notes(value, name)
        if not isinstance(value, (str, Path)):
            raise DawhostError(
                ErrorCode.BAD_INPUT, f"input {name!r} must be a file path, got {value!r}", name
            )
        path = self.work.resolve_input(value, name)
        if kind in (InputKind.NOTES, InputKind.MIDI_FILE) and path.suffix.lower() not in (
            ".mid",
            ".midi",
            ".smf",
        ):
            raise DawhostError(
                ErrorCode.BAD_INPUT,
                f"input {name!r} must be a MIDI file (.mid), got {path.name}",
                name,
            )
        return path

    async def shutdown(self, grace: float | None = None) -> None:
        """Stop every job and worker; `grace` (default: the engine's grace period) is how long
        workers may take to stop before they are killed."""
        await self.engine.shutdown(grace)
        self.scheduler.stop()
