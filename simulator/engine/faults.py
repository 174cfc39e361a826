"""Errors of a run that are no fault of its input: a worker that keeps dying, a Dask scheduler
that went away. Each carries one line for the command line's ``error:`` message."""

from __future__ import annotations

import signal


class RunError(RuntimeError):
    """A run that could not finish for a reason outside its config."""


class WorkerLost(RunError):
    """A block of paths whose worker process died on every attempt."""

    def __init__(self, block: int, start: int, stop: int, cause: str, attempts: int) -> None:
        self.block, self.cause, self.attempts = block, cause, attempts
        super().__init__(f"block {block} (paths {start:,} to {stop - 1:,}): its worker process "
                         f"failed on all {attempts} attempts; {cause}")


MEMORY_ERROR = ("it ran out of memory (MemoryError): lower --memory or use fewer --workers")


class SchedulerLost(RunError):
    """The Dask scheduler stopped answering for longer than the run's timeout."""


def describe_exit(exitcode: int | None) -> str:
    """What a worker's exit code says about its death, with the likely remedy.

    >>> describe_exit(-9)[:31]
    'it was killed with SIGKILL, the'
    >>> describe_exit(-11)
    'it crashed with SIGSEGV (a crash in native code)'
    """
    if exitcode is None:
        return "it stopped answering"
    if exitcode == -signal.SIGKILL:
        return ("it was killed with SIGKILL, the signal of the kernel's out-of-memory killer: "
                "if memory is short, lower --memory or use fewer --workers")
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if -exitcode in (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGABRT,
                         signal.SIGFPE):
            return f"it crashed with {name} (a crash in native code)"
        return f"it was killed with {name}"
    return f"it exited with status {exitcode}"
