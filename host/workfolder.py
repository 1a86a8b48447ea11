"""The work folder: the only place dawhost writes, and the gate every client path goes through.

Client paths are resolved (symlinks and `..` included) and must land inside the work folder or
one of the configured input roots; a server bound to loopback (its clients are the user's own
programs) also reads audio and MIDI files from any absolute path the user sends. Outputs are
written to a temporary name and renamed, so a reader never sees half a file, and only ever
inside the work folder. Job folders and uploads get names no other run has used.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
import secrets
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path

from host.errors import DawhostError, ErrorCode
from host.work_quota import JobsQuota, UploadsQuota, remove_stale_partials, server_lock

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".aif", ".aiff", ".ogg", ".mp3")
MIDI_SUFFIXES = (".mid", ".midi", ".smf")
JOBS_QUOTA_BYTES = 10 * 1024**3


def new_run_id() -> str:
    """Unique per server start and sortable by start time: hex seconds + random hex."""
    return f"{int(time.time()):08x}{secrets.token_hex(2)}"


class WorkFolder:
    def __init__(
        self,
        root: Path,
        input_roots: Iterable[Path] = (),
        inputs_from_anywhere: bool = False,
    ) -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.input_roots = [self.root, *(Path(p).expanduser().resolve() for p in input_roots)]
        self.inputs_from_anywhere = inputs_from_anywhere
        self.run_id = new_run_id()
        self._job_numbers = itertools.count(1)
        self.uploads = UploadsQuota(self.root / "uploads")
        self.jobs = JobsQuota(self.root / "jobs", JOBS_QUOTA_BYTES)
        self._lock_fd: int | None = None

    @classmethod
    def for_server(
        cls,
        root: Path,
        input_roots: Iterable[Path],
        loopback: bool,
        jobs_quota: int = JOBS_QUOTA_BYTES,
    ) -> WorkFolder:
        """The server's own work folder: inputs from anywhere on a loopback bind; at start,
        the half-written files a killed server left behind are removed (unless another
        server is using the same folder)."""
        work = cls(root, input_roots, inputs_from_anywhere=loopback)
        work.jobs.quota = jobs_quota
        work._lock_fd = server_lock(work.root)
        if work._lock_fd is not None:
            weakref.finalize(work, os.close, work._lock_fd)
            removed = remove_stale_partials(work.root)
            if removed:
                log.info("removed %d half-written files left by an earlier run", removed)
        else:
            log.warning(
                "another dawhost server uses the work folder %s; its half-written files are "
                "left alone",
                work.root,
            )
        work.jobs.scan()
        return work

    def resolve_input(self, value: str | os.PathLike[str], field: str) -> Path:
        """A client-supplied input path, checked: relative paths are taken inside the work
        folder; the result must be an existing file under an allowed root (or, with
        `inputs_from_anywhere`, any readable audio or MIDI file given by absolute path)."""
        text = os.fspath(value)
        if not text or "\x00" in text:
            raise DawhostError(ErrorCode.BAD_INPUT, f"input {field!r} is not a usable path", field)
        candidate = Path(text).expanduser()
        absolute = candidate.is_absolute()
        if not absolute:
            candidate = self.root / candidate
        resolved = candidate.resolve()
        inside = any(resolved.is_relative_to(root) for root in self.input_roots)
        if not inside and not (self.inputs_from_anywhere and absolute):
            roots = ", ".join(str(r) for r in self.input_roots)
            hint = (
                "send an absolute path"
                if self.inputs_from_anywhere
                else "copy the file into the work folder or add its folder to input_roots"
            )
            raise DawhostError(
                ErrorCode.PATH_NOT_ALLOWED,
                f"input {field!r} path {text!r} is outside the allowed folders ({roots}); {hint}",
                field,
            )
        if not resolved.is_file():
            raise DawhostError(ErrorCode.BAD_INPUT, f"input {field!r}: no file at {text!r}", field)
        if not inside:
            if resolved.suffix.lower() not in (*AUDIO_SUFFIXES, *MIDI_SUFFIXES):
                kinds = ", ".join((*AUDIO_SUFFIXES, *MIDI_SUFFIXES))
                raise DawhostError(
                    ErrorCode.PATH_NOT_ALLOWED,
                    f"input {field!r}: {resolved.name} is outside the work folder and not an "
                    f"audio or MIDI file ({kinds})",
                    field,
                )
            if not os.access(resolved, os.R_OK):
                raise DawhostError(
                    ErrorCode.BAD_INPUT, f"input {field!r}: {text!r} is not readable", field
                )
        return resolved

    def job_folder(self, client: str, request_id: str) -> Path:
        """A folder for one job's outputs (created when the first output is written). Its name
        starts with this run's id and a job number, so no other job of this or any other run
        shares it (Max patches reuse request ids; a restarted server numbers clients anew);
        ids are sanitised so they cannot climb out, and a sanitised name carries a hash of
        the original so that "take 1" and "take_1" stay apart."""
        raw = f"{client}-{request_id}"
        safe = re.sub(r"[^A-Za-z0-9_-]+", "_", raw).strip("_")[:80]
        if safe != raw:
            safe = f"{safe}-{hashlib.sha1(raw.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
        return self.root / "jobs" / f"{self.run_id}-{next(self._job_numbers):05d}-{safe}"

    def confine(self, path: Path) -> Path:
        """Refuse to write anywhere but inside the work folder."""
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(self.root):
            raise DawhostError(
                ErrorCode.PATH_NOT_ALLOWED, f"refusing to write {path} outside {self.root}"
            )
        return resolved

    def write_atomic(self, path: Path, write: Callable[[Path], None]) -> Path:
        """Call `write(tmp_path)`, then rename the finished file onto `path`."""
        target = self.confine(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.stem}.", suffix=f".partial{target.suffix}"
        )
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            write(tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target


def publish_new(partial: Path, target: Path) -> Path:
    """Give a finished temporary file its final name without replacing any existing file:
    `name.wav`, else `name-2.wav`, `name-3.wav`, ... (a hard link fails if the name exists)."""
    for attempt in itertools.count(1):
        name = (
            target if attempt == 1 else target.with_name(f"{target.stem}-{attempt}{target.suffix}")
        )
        try:
            os.link(partial, name)
        except FileExistsError:
            continue
        partial.unlink()
        return name
    raise AssertionError("unreachable")
