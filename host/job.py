"""The handle a running model sees: its request, progress reporting, cancellation, transport.

`Job` is created by the engine on the event loop and runs wherever its model lives: a thread,
a worker process or a Ray actor. It pickles without its progress callback and cancel flag;
the side that runs the job gives it new ones (see `host.job_runner`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from host.errors import JobCancelled
from host.options import Options, resolved_tempo
from host.smf import Timeline
from host.transport import TransportSnapshot

OptionsT = TypeVar("OptionsT", bound=Options)


def _ignore_progress(fraction: float, message: str) -> None:
    """Progress goes nowhere until an executor connects the job to a client."""


@dataclass
class Job(Generic[OptionsT]):
    """One request as its model sees it; `Job[MyOptions]` types `options` as the model's own."""

    request_id: str
    model_id: str
    verb: str
    options: OptionsT
    inputs: dict[str, Any]
    seed: int
    transport: TransportSnapshot
    folder: Path  # this job's own folder inside the work folder; write outputs here
    start_beat: float | None = None  # where the result should land, if the client said
    # The tempo and time signature of each NOTES input that came as a MIDI file (the host
    # read its notes): a file brings its own timeline, notes on the wire live on the transport's.
    timelines: dict[str, Timeline] = field(default_factory=dict)
    _on_progress: Callable[[float, str], None] = field(default=_ignore_progress, repr=False)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    cancel_reason: str = ""
    started_at: float = field(default_factory=time.monotonic)

    @property
    def tempo(self) -> float:
        """The tempo to play at (BPM): the request's `tempo` option when the model has one and
        it is set (not None), else the transport's."""
        return resolved_tempo(self.options, self.transport.tempo)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self, reason: str = "cancelled") -> None:
        if not self._cancel.is_set():
            self.cancel_reason = reason
            self._cancel.set()

    def check_cancelled(self) -> None:
        """Raise `JobCancelled` if the request was cancelled or ran out of time."""
        if self._cancel.is_set():
            raise JobCancelled(self.cancel_reason)

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress (0..1) and stop here if the job was cancelled."""
        self.check_cancelled()
        self._on_progress(min(1.0, max(0.0, float(fraction))), message)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_on_progress"] = None
        state["_cancel"] = self._cancel.is_set()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        cancelled = state.pop("_cancel")
        self.__dict__.update(state)
        self._on_progress = _ignore_progress
        self._cancel = threading.Event()
        if cancelled:
            self._cancel.set()

    def output_path(self, name: str, suffix: str) -> Path:
        """A fresh path for an output file in this job's folder (name is sanitised)."""
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "output"
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{safe}{suffix}"
