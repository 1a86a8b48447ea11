"""A CPU load like a model job's: small torch ops in a Python loop on another thread.

Small ops are the hard case for timing: the thread holds the GIL for the Python between ops,
which is what delays a scheduler thread (large ops release the GIL for long stretches).
"""

from __future__ import annotations

import threading

import torch


class TorchLoad:
    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, daemon=True, name="torch-load")
        self.iterations = 0

    def _work(self) -> None:
        torch.set_num_threads(1)
        a = torch.randn(self.size, self.size)
        while not self._stop.is_set():
            a = torch.tanh(a @ a) * 0.5
            self.iterations += 1

    def __enter__(self) -> TorchLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
