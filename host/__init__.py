"""dawhost: host deep-learning music models as plugins, reachable over OSC, MIDI and WebSocket."""

from host.errors import BadInput, DawhostError, ErrorCode, JobCancelled
from host.frontend import Frontend
from host.hookspecs import hookimpl
from host.job import Job
from host.model import Capability, InputKind, InputSpec, Model
from host.options import Field, Options, OptionSpec, option_specs
from host.outputs import (
    AudioOutput,
    DataOutput,
    FileOutput,
    Note,
    NotesOutput,
    StemsOutput,
    TransportChange,
)
from host.tasks import DataNeed, Task
from host.transport import Transport, TransportSnapshot, TransportSource

__all__ = [
    "AudioOutput",
    "BadInput",
    "Capability",
    "DataNeed",
    "DataOutput",
    "DawhostError",
    "ErrorCode",
    "Field",
    "FileOutput",
    "Frontend",
    "InputKind",
    "InputSpec",
    "Job",
    "JobCancelled",
    "Model",
    "Note",
    "NotesOutput",
    "OptionSpec",
    "Options",
    "StemsOutput",
    "Task",
    "Transport",
    "TransportChange",
    "TransportSnapshot",
    "TransportSource",
    "hookimpl",
    "option_specs",
]
