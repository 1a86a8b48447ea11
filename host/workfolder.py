"""The work folder: the only place dawhost writes, and the gate every client path goes through.

Client paths are resolved (symlinks and `..` included) and must land inside the work folder or
one of the configured input roots; outputs are written to a temporary name and renamed, so a
reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from host.errors import DawhostError, ErrorCode


class WorkFolder:
    def __init__(self, root: Path, input_roots: Iterable[Path] = ()) -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.input_roots = [self.root, *(Path(p).expanduser().resolve() for p in input_roots)]

    def resolve_input(self, value: str | os.PathLike[str], field: str) -> Path:
        """A client-supplied input path, checked: relative paths are taken inside the work
        folder; the result must be an existing file under an allowed root."""
        text = os.fspath(value)
        if not text or "\x00" in text:
            raise DawhostError(ErrorCode.BAD_INPUT, f"input {field!r} is not a usable path", field)
        candidate = Path(text).expanduser()
        if not candidate.is_absolute():
            candidate = self.root / candidate
        resolved = candidate.resolve()
        if not any(resolved.is_relative_to(root) for root in self.input_roots):
            roots = ", ".join(str(r) for r in self.input_roots)
            raise DawhostError(
                ErrorCode.PATH_NOT_ALLOWED,
                f"input {field!r} path {text!r} is outside the allowed folders ({roots}); "
                "copy the file into the work folder or add its folder to input_roots",
                field,
            )
        if not resolved.is_file():
            raise DawhostError(ErrorCode.BAD_INPUT, f"input {field!r}: no file at {text!r}", field)
        return resolved

    def job_folder(self, client: str, request_id: str) -> Path:
        """A folder for one job's outputs (created when the first output is written); ids are
        sanitised so they cannot climb out, and a sanitised name carries a hash of the original
        so that "take 1" and "take_1" do not share (and overwrite) one folder."""
        raw = f"{client}-{request_id}"
        safe = re.sub(r"[^A-Za-z0-9_-]+", "_", raw).strip("_")[:80]
        if safe != raw:
            safe = f"{safe}-{hashlib.sha1(raw.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
        return self.root / "jobs" / safe

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
