"""The executor benchmarks' local Ray instance: started only for the `ray` executor."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def runtime_for(executor: str) -> Iterator[None]:
    """For `ray`, a loopback Ray instance on 2 CPUs for the block; otherwise nothing."""
    if executor != "ray":
        yield
        return
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a loopback instance, no token
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
