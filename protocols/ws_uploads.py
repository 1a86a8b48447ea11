"""Files sent by WebSocket clients (a loop to separate, a MIDI primer), saved in the work folder.

A client announces a file with `{"type": "upload", "id": "u1", "name": "loop.wav", "size": N}`
and then sends its bytes as binary frames (each within the message size limit) until N bytes
have arrived; the server answers `{"type": "uploaded", "id": "u1", "path": ..., "size": N}`,
and the path is then usable as an input of any request. The file appears atomically.

The uploads folder is kept under a quota (2 GiB by default): a new upload reserves its whole
announced size before its first byte (so uploads arriving at the same time cannot together
overshoot the quota), and the oldest finished uploads are deleted to make room. A finished
upload never replaces an existing file: a name already taken gets `-2`, `-3`, ... appended.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from host.errors import DawhostError, ErrorCode
from host.workfolder import WorkFolder, publish_new

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
        self._quota = work.uploads
        self._ticket = self._quota.reserve(size, quota)
        stem, suffix = Path(name).stem, Path(name).suffix.lower()
        try:
            self.path = work.confine(
                folder / f"{_safe(client)}-{_safe(str(upload_id))}-{_safe(stem)}{suffix}"
            )
            fd, partial = tempfile.mkstemp(
                dir=folder, prefix=f".{self.path.name}.", suffix=".partial"
            )
        except BaseException:
            self._quota.release(self._ticket)
            raise
        self._partial = Path(partial)
        self._file = os.fdopen(fd, "wb")

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
        try:
            self.path = publish_new(self._partial, self.path)
        finally:
            self._quota.release(self._ticket)
        return self.path

    def abort(self) -> None:
        self._file.close()
        self._partial.unlink(missing_ok=True)
        self._quota.release(self._ticket)
