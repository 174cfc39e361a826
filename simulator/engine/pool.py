"""A pool of forked worker processes that survives a worker's death and never hangs.

Each worker runs one block at a time over a pipe of its own, so the pool knows which block a
dead worker held; the operating system reports the death at once (the process sentinel).
That block runs again on a fresh worker, and since a block's numbers depend only on
(seed, block) the run's result is the same as if nothing had happened. A block whose retry
dies too ends the run with :class:`~simulator.engine.faults.WorkerLost`.

The pool uses no helper threads: the caller's thread waits on the pipes and sentinels, so a
signal (SIGINT, SIGTERM turned into KeyboardInterrupt by the command line) interrupts the
wait at once, and the pool then kills its workers and reaps them. Workers ignore SIGINT
(Ctrl-C reaches the whole process group; the parent decides), take SIGTERM's default
action, and close every pipe end that is not their own, so a parent that dies leaves no
worker behind: its task pipe reaches end-of-file and it exits.

Test seam: the environment variable ``SIMULATOR_FAULT=HOW:BLOCK[:TIMES]``, read when a pool
starts, makes the worker that runs block ``BLOCK`` die on its first ``TIMES`` attempts
(default 1) by ``HOW``: ``kill`` (SIGKILL, as the out-of-memory killer does), ``segv``
(SIGSEGV, as a crash in native code), ``exit`` (``os._exit(3)``) or ``memory`` (a
``MemoryError`` in the block, which the pool treats like a death: retry, then give up).
"""

from __future__ import annotations

import faulthandler
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from .faults import MEMORY_ERROR, WorkerLost, describe_exit

FAULT_VARIABLE = "SIMULATOR_FAULT"
RETRIES = 1  # a block is run again this many times after its worker died


@dataclass(frozen=True)
class Fault:
    """An injected worker death (the test seam): ``how`` on ``block``'s first ``times``
    attempts."""

    how: str
    block: int
    times: int = 1

    @classmethod
    def from_environ(cls) -> Fault | None:
        """The fault ``SIMULATOR_FAULT`` asks for, if any.

        >>> Fault.parse("kill:3:2")
        Fault(how='kill', block=3, times=2)
        """
        text = os.environ.get(FAULT_VARIABLE)
        return cls.parse(text) if text else None

    @classmethod
    def parse(cls, text: str) -> Fault:
        how, block, *times = text.split(":")
        if how not in ("kill", "segv", "exit", "memory") or len(times) > 1:
            raise ValueError(f"{FAULT_VARIABLE} must be HOW:BLOCK[:TIMES] with HOW kill, segv, "
                             f"exit or memory (got {text!r})")
        return cls(how, int(block), int(times[0]) if times else 1)

    def due(self, block: int, attempt: int) -> str | None:
        """How the worker of ``block`` is to die on attempt ``attempt`` (0-based), if so."""
        return self.how if block == self.block and attempt < self.times else None


def _inject(how: str) -> None:
    if how == "memory":
        raise MemoryError("injected by SIMULATOR_FAULT")
    if how == "exit":
        os._exit(3)
    faulthandler.disable()  # an injected crash needs no traceback dump (pytest enables it)
    os.kill(os.getpid(), signal.SIGSEGV if how == "segv" else signal.SIGKILL)


def _serve(tasks: Connection, results: Connection, foreign: list[Connection],
           function: Callable[[Any], Any]) -> None:
    """A worker's life: run the tasks its pipe brings until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for conn in foreign:
        conn.close()
    while True:
        try:
            index, item, fault = tasks.recv()
        except (EOFError, OSError):
            return
        try:
            if fault is not None:
                _inject(fault)
            reply: tuple[str, int, Any] = ("ok", index, function(item))
        except MemoryError:
            reply = ("memory", index, None)
        except Exception as err:  # sent back and raised in the parent
            reply = ("error", index, err)
        try:
            results.send(reply)
        except Exception as err:  # e.g. an exception that cannot be pickled
            results.send(("error", index, RuntimeError(f"{type(err).__name__}: {err}")))


class _Worker:
    """One worker process and the parent's ends of its two pipes."""

    def __init__(self, context: Any, function: Callable[[Any], Any],
                 others: list[_Worker]) -> None:
        task_read, self.tasks = context.Pipe(duplex=False)
        self.results, result_write = context.Pipe(duplex=False)
        foreign = [conn for w in others for conn in (w.tasks, w.results)]
        self.process = context.Process(
            target=_serve, args=(task_read, result_write, [*foreign, self.tasks, self.results],
                                 function), daemon=True)
        self.process.start()
        # the write end of its results and the read end of its tasks now live only in the
        # worker: its death closes them, so a half-sent message ends in EOF, not a hang
        task_read.close()
        result_write.close()
        self.block: int | None = None

    def stop(self) -> None:
        """Kill the process (it holds nothing worth saving) and reap it."""
        for conn in (self.tasks, self.results):
            conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()


class Pool:
    """Run ``function`` over items on ``size`` forked workers; see the module docstring."""

    def __init__(self, size: int, function: Callable[[Any], Any], context: Any,
                 describe: Callable[[int], tuple[int, int]] | None = None) -> None:
        self.size = size
        self.function = function
        self.context = context
        self.describe = describe  # block index -> (first path, stop), for error messages
        self.fault = Fault.from_environ()
        self.workers: list[_Worker] = []
        self.items: Sequence[Any] = ()
        self.attempts: list[int] = []  # per item: how often it was handed to a worker

    def _spawn(self) -> _Worker:
        worker = _Worker(self.context, self.function, self.workers)
        self.workers.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        self.workers.remove(worker)
        worker.stop()

    def close(self) -> None:
        """Stop every worker (also the busy ones)."""
        while self.workers:
            self._retire(self.workers[-1])

    def imap_unordered(self, items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """``(index, function(items[index]))`` as blocks finish, each index once; the
        workers are stopped when the iteration ends, fails or is abandoned."""
        pending = deque(range(len(items)))
        self.items, self.attempts = items, [0] * len(items)
        try:
            for _ in range(min(self.size, len(items))):
                self._spawn()
            while pending or any(w.block is not None for w in self.workers):
                for worker in self.workers:
                    if worker.block is None and pending:
                        self._assign(worker, pending.popleft())
                busy = [w for w in self.workers if w.block is not None]
                ready = set(wait([c for w in busy for c in (w.results, w.process.sentinel)]))
                for worker in busy:
                    if worker.results in ready:
                        try:
                            status, index, value = worker.results.recv()
                        except (EOFError, OSError):
                            self._lost(worker)
                            continue
                        if status == "memory":
                            self._lost(worker, MEMORY_ERROR)
                            continue
                        worker.block = None
                        if status == "error":
                            raise value
                        yield index, value
                    elif worker.process.sentinel in ready:
                        self._lost(worker)
        finally:
            self.close()

    def _assign(self, worker: _Worker, index: int) -> None:
        """Hand item ``index`` to an idle worker."""
        fault = self.fault.due(index, self.attempts[index]) if self.fault else None
        self.attempts[index] += 1
        worker.block = index
        try:
            worker.tasks.send((index, self.items[index], fault))
        except OSError:  # died before it could take the block
            self._lost(worker)

    def _lost(self, worker: _Worker, cause: str | None = None) -> None:
        """A worker died holding a block (or ran out of memory in it): retry the block on a
        fresh worker, or give up."""
        index = worker.block
        assert index is not None
        if cause is None:
            worker.process.join(5)  # dead already, unless only its pipe broke
            cause = describe_exit(worker.process.exitcode)
        self._retire(worker)
        if self.attempts[index] > RETRIES:
            start, stop = self.describe(index) if self.describe else (0, 0)
            raise WorkerLost(index, start, stop, cause, self.attempts[index])
        self._assign(self._spawn(), index)
