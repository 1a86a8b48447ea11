"""CPU hogs: processes that spin a core each, the "machine is busy" part of a benchmark."""

from __future__ import annotations

import subprocess
import sys


class CpuHogs:
    """`with CpuHogs(2): ...` runs two spinning processes for the block (killed by PID)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> CpuHogs:
        self.processes = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.count)
        ]
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait()
