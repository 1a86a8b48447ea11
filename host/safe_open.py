"""Opening a client's input file without following a symbolic link that appeared after the
path was checked: each folder on the (already resolved, so link-free) path is opened with
O_NOFOLLOW relative to its parent, so a folder swapped for a link to /etc between the check
and the read fails here instead of being read through.

`pinned_inputs` does this for a job right before its model runs and hands the model paths
through the opened descriptors (`/proc/self/fd/N` on Linux), so nothing can be swapped
between this check and the model's own open.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from host.errors import DawhostError, ErrorCode

_FD_FOLDER = Path("/proc/self/fd")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_PATH = getattr(os, "O_PATH", os.O_RDONLY)  # a folder handle that needs no read permission


def open_no_follow(path: Path, field: str = "input") -> int:
    """A read-only descriptor for `path`, refusing any symbolic link on the way. The caller
    closes it. Raises DawhostError (path_not_allowed) when a link is met."""
    path = Path(path)
    if not path.is_absolute():
        raise ValueError(f"{path} is not absolute")
    parts = path.parts[1:]
    folder = os.open(path.anchor, _PATH | _DIRECTORY)
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, _PATH | _DIRECTORY | _NOFOLLOW, dir_fd=folder)
            except OSError as exc:
                raise _changed(path, field, exc) from None
            os.close(folder)
            folder = inner
        try:
            return os.open(parts[-1], os.O_RDONLY | _NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
        except OSError as exc:
            raise _changed(path, field, exc) from None
    finally:
        os.close(folder)


def _changed(path: Path, field: str, exc: OSError) -> DawhostError:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return DawhostError(
            ErrorCode.PATH_NOT_ALLOWED,
            f"input {field!r} ({path}) changed after it was checked: a folder or the file on "
            "its path is now a symbolic link; send the path again",
            field,
        )
    return DawhostError(
        ErrorCode.BAD_INPUT, f"input {field!r}: cannot open {path}: {exc.strerror}", field
    )


class PinnedPath(type(Path())):  # type: ignore[misc]
    """A path through an open descriptor (`/proc/self/fd/N`) that keeps the checked file's
    name, so a model's messages still say "loop.wav", not "7"."""

    shown_name = ""

    @property
    def name(self) -> str:
        return self.shown_name or super().name

    @property
    def suffix(self) -> str:
        return Path(self.shown_name).suffix if self.shown_name else super().suffix

    @property
    def stem(self) -> str:
        return Path(self.shown_name).stem if self.shown_name else super().stem


def _through(fd: int, original: Path) -> Path:
    pinned = PinnedPath(_FD_FOLDER / str(fd))
    pinned.shown_name = original.name
    return pinned


@contextlib.contextmanager
def pinned_inputs(inputs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The inputs with every file path opened safely and replaced by a path through its
    descriptor (where the system has /proc/self/fd; elsewhere the checked path itself)."""
    opened: list[int] = []
    pinned = dict(inputs)
    try:
        for name, value in inputs.items():
            if isinstance(value, Path):
                fd = open_no_follow(value, name)
                opened.append(fd)
                if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or device would hang
                    raise DawhostError(
                        ErrorCode.BAD_INPUT, f"input {name!r}: {value} is not a file", name
                    )
                if _FD_FOLDER.is_dir():
                    pinned[name] = _through(fd, value)
        yield pinned
    finally:
        for fd in opened:
            os.close(fd)
