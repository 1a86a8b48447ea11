"""`dawhost train|eval|bench <name>`: plugin tasks. A task whose data is built on this machine
says so before it starts (what, how long to build) and builds it with `--build-data`.
Progress goes to stderr (host.progress: a bar on a terminal, plain lines in a log), the report
to stdout; `--quiet` leaves stderr to warnings and errors."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence

from host import progress
from host.tasks import Task

BUILD_FLAG = "--build-data"
QUIET_FLAG = "--quiet"


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """What is written to stdout (by Python, C libraries or child processes) goes to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def task_listing(kind: str, tasks: list[Task]) -> str:
    if not tasks:
        return f"no {kind} tasks are installed"
    width = max(len(t.name) for t in tasks)
    lines = [f"{kind} tasks:"]
    for task in tasks:
        data = ""
        if task.data is not None:
            data = " [data built]" if task.data.is_built() else f" [needs data: {BUILD_FLAG}]"
        lines.append(f"  {task.name:<{width}}  {task.description}{data}")
    return "\n".join(lines)


def cmd_task(kind: str, argv: Sequence[str], tasks: list[Task]) -> int:
    tasks = [t for t in tasks if t.kind == kind]
    if not argv or argv[0].startswith("-"):
        print(
            f"usage: dawhost {kind} <name> [{BUILD_FLAG}] [{QUIET_FLAG}] [args...]", file=sys.stderr
        )
        print(task_listing(kind, tasks), file=sys.stderr)
        return 2
    name, rest = argv[0], list(argv[1:])
    task = next((t for t in tasks if t.name == name), None)
    if task is None:
        print(f"error: no {kind} task {name!r}", file=sys.stderr)
        print(task_listing(kind, tasks), file=sys.stderr)
        return 2
    build = BUILD_FLAG in rest
    quiet = QUIET_FLAG in rest
    rest = [a for a in rest if a not in (BUILD_FLAG, QUIET_FLAG)]
    if quiet:
        progress.set_mode("off")
    wants_help = any(a in ("-h", "--help") for a in rest)
    need = task.data
    if build and need is not None and not need.applies(rest):
        print(
            f"note: {BUILD_FLAG} builds only the default data ({need.command}); "
            f"the options given point {kind} {name} at other data",
            file=sys.stderr,
        )
    if need is not None and need.applies(rest) and not need.is_built() and not wants_help:
        if not build:
            print(
                f"dawhost {kind} {name} needs data that is built on this machine and is not "
                f"there yet: {need.marker}\n"
                f"Building it takes about {need.minutes:g} minutes on 2 cores "
                f"({need.command}).\n"
                f"Run `dawhost {kind} {name} {BUILD_FLAG}` to build it first, then {kind}.",
                file=sys.stderr,
            )
            return 2
        print(
            f"building the data for {kind} {name} (about {need.minutes:g} minutes): {need.command}",
            file=sys.stderr,
        )
        started = time.monotonic()
        with stdout_to_stderr():  # stdout is the task's report alone, even after a build
            status = need.build()
        if status != 0 or not need.is_built():
            print(f"error: the data build failed (exit status {status})", file=sys.stderr)
            return status or 1
        print(f"data built in {(time.monotonic() - started) / 60:.1f} minutes", file=sys.stderr)
    if wants_help or quiet:
        return task.main(rest)
    print(f"dawhost {kind} {name}: {task.description}", file=sys.stderr)
    started = time.monotonic()
    status = task.main(rest)
    print(
        f"dawhost {kind} {name}: finished in {time.monotonic() - started:.0f} s"
        + (f" (exit status {status})" if status else ""),
        file=sys.stderr,
    )
    return status
