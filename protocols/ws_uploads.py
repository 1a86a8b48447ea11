"""Files sent by WebSocket clients (a loop to separate, a MIDI primer), saved in the work folder.

A client announces a file with `{"type": "upload", "id": "u1", "name": "loop.wav", "size": N}`
and then sends its bytes as binary frames (each within the message size limit) until N bytes
have arrived; the server answers `{"type": "uploaded", "id": "u1", "path": ..., "size": N}`,
and the path is then usable as an input of any request. The file appears atomically.

The uploads folder is kept under a quota (2 GiB by default): before a new upload starts, the
oldest finished uploads are deleted to make room, so no client can fill the disk.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from host.errors import DawhostError, ErrorCode
from host.workfolder import WorkFolder

UPLOAD_SUFFIXES = (".wav", ".flac", ".aif", ".aiff", ".ogg", ".mp3", ".mid", ".midi")
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
UPLOADS_QUOTA_BYTES = 2 * 1024**3


def _bad(message: str, field: str | None = None) -> DawhostError:
    return DawhostError(ErrorCode.BAD_REQUEST, message, field)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._")[:80] or "file"


class Upload:
    """One file arriving in binary frames; written to a hidden temporary name until complete."""

    def __init__(
        self,
        work: WorkFolder,
        client: str,
        message: dict[str, Any],
        limit: int = MAX_UPLOAD_BYTES,
        quota: int = UPLOADS_QUOTA_BYTES,
    ) -> None:
        upload_id, name, size = message.get("id"), message.get("name"), message.get("size")
        if isinstance(upload_id, bool) or not isinstance(upload_id, (str, int)) or upload_id == "":
            raise _bad('"id" must be a non-empty string or an int', "id")
        if not isinstance(name, str) or Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
            endings = ", ".join(UPLOAD_SUFFIXES)
            raise _bad(f'"name" must be a file name ending in one of {endings}', "name")
        if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= limit:
            raise _bad(f'"size" must be the file\'s byte count, 1 to {limit}', "size")
        self.id = upload_id
        self.size = size
        self.received = 0
        folder = work.root / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        if size > quota:
            raise _bad(f"an upload of {size} bytes cannot fit the uploads quota of {quota}", "size")
        make_room(folder, size, quota)
        stem, suffix = Path(name).stem, Path(name).suffix.lower()
        self.path = work.confine(
            folder / f"{_safe(client)}-{_safe(str(upload_id))}-{_safe(stem)}{suffix}"
        )
        self._partial = self.path.with_name(f".{self.path.name}.partial")
        self._file = open(self._partial, "wb")  # noqa: SIM115 - closed in finish/abort

    def add(self, chunk: bytes) -> bool:
        """Append one frame; True once the announced size has arrived."""
        if self.received + len(chunk) > self.size:
            raise _bad(
                f"upload {self.id!r} sent more than the {self.size} bytes it announced", "size"
            )
        self._file.write(chunk)
        self.received += len(chunk)
        return self.received == self.size

    def finish(self) -> Path:
        self._file.close()
        os.replace(self._partial, self.path)
        return self.path

    def abort(self) -> None:
        self._file.close()
        self._partial.unlink(missing_ok=True)


def make_room(folder: Path, incoming: int, quota: int) -> None:
    """Delete the oldest finished uploads until `incoming` more bytes fit within `quota`
    (files still arriving are hidden `.partial` files and count, but are never deleted)."""
    files = []
    for path in folder.iterdir():
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # finished or aborted meanwhile
        files.append((stat.st_mtime, stat.st_size, path))
    used = sum(size for _, size, _ in files)
    for _, size, path in sorted(files):
        if used + incoming <= quota:
            break
        if path.name.startswith("."):
            continue
        path.unlink(missing_ok=True)
        used -= size
