"""The Ray executor: model replicas as Ray actors, on this machine or a cluster.

`[engine] executor = "ray"` with `address = "auto"` (the cluster this machine belongs to),
`"ray://head:10001"` (Ray Client), or `"local"` (start a Ray instance here). Each replica is a
threaded actor running `host.worker.ModelWorker`; a job's events come back through a Ray
streaming generator as they happen. Cancel is a call to the actor's `cancel` method, which sets
the job's flag (measured: `ray.cancel` on a running task of a threaded actor never reached the
task's `is_canceled()` in Ray 2.60, and Ray cannot force-stop a running actor task), so the
force after the grace period is `ray.kill` of the replica, which is replaced on the next request.

Ray workers read inputs from and write outputs to the work folder's path: on a cluster it must
be the same shared folder on every node, and dawhost must be installed there too.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ray

from host.errors import ErrorCode
from host.executor import Assignment, EngineSettings, Executor
from host.job import Job
from host.model import Model
from host.requests import Error, Event
from host.worker import ModelWorker, WorkerSpec, watch_memory
from host.workfolder import WorkFolder

log = logging.getLogger(__name__)

_END = "end"  # marks the end of a job's event queue inside the actor
_CANCEL_POLL = 0.05  # seconds between looks at Ray's cancel flag while a job runs


class ModelActor:
    """One replica of one model, inside a Ray worker process."""

    def __init__(self, spec: WorkerSpec) -> None:
        if spec.memory_limit_mb:
            watch_memory(spec.memory_limit_mb)
        self.worker = ModelWorker(spec)

    def pid(self) -> int:
        return os.getpid()

    def load(self) -> str:
        return self.worker.load()

    def cancel(self, key: str, reason: str) -> None:
        self.worker.cancel(key, reason)

    def run(self, job: Job) -> Iterator[Event]:
        """Stream a job's events. The job runs on a thread of its own so that this generator
        keeps streaming while the model computes (and a `ray.cancel` still reaches it)."""
        events: queue.Queue[Any] = queue.Queue()

        def work() -> None:
            try:
                self.worker.run(job, events.put)
            finally:
                events.put(_END)

        threading.Thread(target=work, name=f"dawhost-job-{job.request_id}", daemon=True).start()
        context = ray.get_runtime_context()
        while True:
            try:
                event = events.get(timeout=_CANCEL_POLL)
            except queue.Empty:
                if not job.cancelled and context.is_canceled():
                    job.cancel("cancelled")
                continue
            if isinstance(event, str) and event == _END:
                return
            yield event


@dataclass
class Replica:
    actor: Any  # a Ray actor handle
    current: Assignment | None = None
    generator: Any = None  # the running job's ObjectRefGenerator
    killed: bool = False
    alive: bool = True


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, work: WorkFolder, settings: EngineSettings) -> None:
        super().__init__(work, settings)
        if not ray.is_initialized():
            if settings.address == "local":
                ray.init(include_dashboard=False, _node_ip_address="127.0.0.1")
            else:
                ray.init(address=settings.address)
        options: dict[str, Any] = {"max_concurrency": 4, "max_restarts": 0}
        if settings.ray_num_cpus is not None:
            options["num_cpus"] = settings.ray_num_cpus
        if settings.address == "local":
            # Workers on this machine import models from where the server does (a checkout,
            # a test folder); on a cluster, dawhost and its plugins must be installed.
            options["runtime_env"] = {"env_vars": {"PYTHONPATH": os.pathsep.join(sys.path)}}
        self._actor_class = ray.remote(**options)(ModelActor)
        self._replicas: dict[str, list[Replica | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def replicas(self, model_id: str) -> list[Replica]:
        return [r for r in self._replicas.get(model_id, []) if r is not None and r.alive]

    def _idle_replica(self, model: Model) -> Replica:
        replicas = self._replicas.setdefault(model.model_id, [None] * self.slots(model))
        for replica in replicas:
            if replica is not None and replica.alive and replica.current is None:
                return replica
        for index, replica in enumerate(replicas):
            if replica is None or not replica.alive:
                actor = self._actor_class.remote(self.worker_spec(model))
                replicas[index] = Replica(actor)
                log.info("started a Ray actor for %s (replica %d)", model.model_id, index)
                return replicas[index]  # type: ignore[return-value]
        raise RuntimeError(f"no free replica of {model.model_id}; the engine over-assigned")

    def start(self, assignment: Assignment) -> None:
        replica = self._idle_replica(assignment.model)
        replica.current = assignment
        replica.generator = replica.actor.run.remote(assignment.job)
        task = asyncio.get_running_loop().create_task(self._stream(replica, assignment))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _stream(self, replica: Replica, assignment: Assignment) -> None:
        model_id = assignment.model.model_id
        try:
            async for ref in replica.generator:
                event = await ref
                if not replica.killed:
                    assignment.emit(event)
        except ray.exceptions.TaskCancelledError:
            pass  # the client already heard `cancelled`
        except ray.exceptions.RayActorError as exc:
            replica.alive = False
            assignment.model.note_loaded(bool(self.replicas(model_id)))
            if not replica.killed:
                log.error("the Ray actor of %s died: %s", model_id, exc)
                assignment.emit(
                    Error(
                        assignment.job.request_id,
                        ErrorCode.MODEL_ERROR,
                        f"model {model_id!r} crashed: its Ray actor died ({_why(exc)}); "
                        "it starts again on the next request",
                    )
                )
        except Exception as exc:  # an event that did not come back: say so
            log.exception("job %s of %s failed in Ray", assignment.job.request_id, model_id)
            assignment.emit(
                Error(
                    assignment.job.request_id,
                    ErrorCode.MODEL_ERROR,
                    f"model {model_id!r} failed in Ray: {type(exc).__name__}: {exc}",
                )
            )
        finally:
            if replica.current is assignment:
                replica.current, replica.generator = None, None
                assignment.finished()

    def _replica_of(self, assignment: Assignment) -> Replica | None:
        for replica in self.replicas(assignment.model.model_id):
            if replica.current is assignment:
                return replica
        return None

    def cancel(self, assignment: Assignment, reason: str) -> None:
        assignment.job.cancel(reason)
        replica = self._replica_of(assignment)
        if replica is not None:
            replica.actor.cancel.remote(ModelWorker.key(assignment.job), reason)

    def kill(self, assignment: Assignment) -> bool:
        replica = self._replica_of(assignment)
        if replica is None:
            return True
        log.warning(
            "killing the Ray actor of %s: job %s did not stop within %g s",
            assignment.model.model_id,
            assignment.job.request_id,
            self.settings.grace_period,
        )
        self.kills += 1
        replica.killed, replica.alive = True, False
        ray.kill(replica.actor, no_restart=True)
        replica.current, replica.generator = None, None
        assignment.finished()
        return True

    def preload(self, model: Model) -> None:
        live = self.replicas(model.model_id)  # a threaded actor loads even while it works
        replica = live[0] if live else self._idle_replica(model)

        async def load() -> None:
            problem = await replica.actor.load.remote()
            model.note_loaded(not problem)
            if problem:
                log.warning("could not preload %s: %s", model.model_id, problem)

        task = asyncio.get_running_loop().create_task(load())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def shutdown(self, grace: float) -> None:
        for replicas in self._replicas.values():
            for replica in replicas:
                if replica is not None and replica.alive:
                    replica.killed, replica.alive = True, False
                    ray.kill(replica.actor, no_restart=True)
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)
        self._replicas.clear()


def _why(exc: BaseException) -> str:
    """Ray's long actor-death message, cut to its first line."""
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
