"""Opening a client's input file without following a symbolic link that appeared after the
path was checked: each folder on the (already resolved, so link-free) path is opened with
O_NOFOLLOW relative to its parent, so a folder swapped for a link to /etc between the check
and the read fails here instead of being read through.

`pinned_inputs` does this for a job right before its model runs and hands the model paths
through the opened folder's descriptor (`/proc/self/fd/N/loop.wav` on Linux): no folder on
the way can be swapped after the check, and the file keeps its name in the model's messages.
The file itself was opened with O_NOFOLLOW a moment before; replacing it by a link in that
short window needs write access to its folder (the work folder or an input root).
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
    folder, fd = open_folder_and_file(path, field)
    os.close(folder)
    return fd


def open_folder_and_file(path: Path, field: str = "input") -> tuple[int, int]:
    """Descriptors for `path`'s folder and for the file itself, no link followed."""
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
            fd = os.open(parts[-1], os.O_RDONLY | _NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
        except OSError as exc:
            raise _changed(path, field, exc) from None
    except BaseException:
        os.close(folder)
        raise
    return folder, fd


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


@contextlib.contextmanager
def pinned_inputs(inputs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The inputs with every file path opened safely and replaced by a path through its
    folder's descriptor (where the system has /proc/self/fd; elsewhere the checked path)."""
    opened: list[int] = []
    pinned = dict(inputs)
    try:
        for name, value in inputs.items():
            if isinstance(value, Path):
                folder, fd = open_folder_and_file(value, name)
                opened += [folder, fd]
                if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or device would hang
                    raise DawhostError(
                        ErrorCode.BAD_INPUT, f"input {name!r}: {value} is not a file", name
                    )
                if _FD_FOLDER.is_dir():
                    pinned[name] = _FD_FOLDER / str(folder) / value.name
        yield pinned
    finally:
        for fd in opened:
            os.close(fd)
