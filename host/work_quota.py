"""Disk limits for the work folder: the uploads quota (space is reserved when an upload
starts, so uploads arriving at the same time cannot together overshoot it), the jobs quota
(the oldest finished job folders are deleted first; a running job's folder never is), and
the start-up sweep of half-written files that a killed server left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import logging
import os
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path

from host.errors import DawhostError, ErrorCode

log = logging.getLogger(__name__)

LOCK_FILE = ".dawhost.lock"


def is_partial(name: str) -> bool:
    """Temporary names: uploads (`.x.wav.partial`), atomic writes (`.x.1234.partial.wav`),
    model temporaries (`x.wav.part`)."""
    return (name.startswith(".") and ".partial" in name) or name.endswith(".part")


def remove_stale_partials(root: Path) -> int:
    """Delete half-written files in uploads/ and jobs/ (call only when no other server and no
    worker can be writing them: at start, holding the folder's lock)."""
    removed = 0
    for folder in (root / "uploads", root / "jobs"):
        if not folder.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
            for name in filenames:
                if is_partial(name):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(dirpath, name))
                        removed += 1
    return removed


def server_lock(root: Path) -> int | None:
    """Hold an exclusive lock on the work folder for this process's lifetime; None when
    another server holds it."""
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def folder_bytes(path: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


class UploadsQuota:
    """Bytes in uploads/: finished files on disk plus the announced size of every upload
    still arriving. An upload reserves its whole size before its first byte."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._reserved: dict[int, int] = {}
        self._tickets = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        return sum(self._reserved.values())

    def reserve(self, size: int, quota: int) -> int:
        """Make room for `size` more bytes (deleting the oldest finished uploads); a ticket
        to `release` when the upload ends. Raises DawhostError when it cannot fit."""
        if size > quota:
            raise DawhostError(
                ErrorCode.BAD_REQUEST,
                f"an upload of {size} bytes cannot fit the uploads quota of {quota}",
                "size",
            )
        with self._lock:
            in_flight = self.in_flight
            if in_flight + size > quota:
                raise DawhostError(
                    ErrorCode.BUSY,
                    f"uploads still arriving hold {in_flight} of the {quota} bytes the uploads "
                    f"folder may use; {size} more do not fit now, retry when they finish",
                    "size",
                )
            self._make_room(size + in_flight, quota)
            ticket = next(self._tickets)
            self._reserved[ticket] = size
            return ticket

    def release(self, ticket: int) -> None:
        with self._lock:
            self._reserved.pop(ticket, None)

    def _make_room(self, incoming: int, quota: int) -> None:
        files = []
        self.folder.mkdir(parents=True, exist_ok=True)
        for entry in os.scandir(self.folder):
            if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                continue  # arriving uploads are counted by their reservations
            with contextlib.suppress(FileNotFoundError):
                stat = entry.stat(follow_symlinks=False)
                files.append((stat.st_mtime, entry.name, stat.st_size))
        used = sum(size for _, _, size in files)
        for _, name, size in sorted(files):
            if used + incoming <= quota:
                break
            (self.folder / name).unlink(missing_ok=True)
            used -= size


class JobsQuota:
    """Bytes in jobs/. The folder is listed once at start; after that each ended job's folder
    is measured once (a finished folder does not change again), running ones at every check,
    so a check costs no directory listing. Running folders are never deleted."""

    def __init__(self, folder: Path, quota: int) -> None:
        self.folder = folder
        self.quota = quota
        self.evicted = 0
        self._finished: dict[str, tuple[float, int]] = {}  # name -> (mtime, bytes)
        self._unsettled: set[str] = set()  # ended or seen running, not yet measured finished
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return sum(size for _, size in self._finished.values())

    def scan(self) -> None:
        """Measure every job folder already there (at start) and apply the quota."""
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.folder):
                if entry.is_dir(follow_symlinks=False):
                    self._unsettled.add(entry.name)
        self.enforce(())

    def job_ended(self, folder: Path, running: Iterable[Path]) -> list[str]:
        self._unsettled.add(folder.name)
        return self.enforce(running)

    def enforce(self, running: Iterable[Path]) -> list[str]:
        """Delete the oldest finished job folders until jobs/ fits the quota; their names."""
        busy = {Path(p).name for p in running}
        with self._lock:
            for name in list(self._unsettled):
                if name in busy:
                    continue
                self._unsettled.discard(name)
                path = self.folder / name
                with contextlib.suppress(FileNotFoundError):
                    self._finished[name] = (path.stat().st_mtime, folder_bytes(path))
            running_bytes = 0
            for name in busy:
                self._finished.pop(name, None)
                self._unsettled.add(name)  # measured as finished once it stops
                running_bytes += folder_bytes(self.folder / name)
            total = running_bytes + self.total
            removed = []
            for name, (_, size) in sorted(self._finished.items(), key=lambda kv: kv[1][0]):
                if total <= self.quota:
                    break
                shutil.rmtree(self.folder / name, ignore_errors=True)
                del self._finished[name]
                total -= size
                removed.append(name)
            self.evicted += len(removed)
        if removed:
            log.info(
                "jobs folder over its quota of %d bytes: deleted the %d oldest finished jobs",
                self.quota,
                len(removed),
            )
        return removed
