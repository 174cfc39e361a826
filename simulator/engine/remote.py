"""Running blocks on a Dask cluster, without hanging when the cluster fails.

A lost worker is Dask's business: the scheduler runs the lost blocks again elsewhere, and
since a block's numbers depend only on (seed, block) the result is unchanged. A lost
scheduler cancels the run's futures (raised here as
:class:`~simulator.engine.faults.SchedulerLost`); a scheduler that stops answering without
closing its connection (a frozen process, a network partition) is noticed when no block has
finished for ``timeout`` seconds and a ping gets no answer within ``timeout`` seconds either.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .faults import RunError, SchedulerLost


def _address(client: Any) -> str:
    try:
        return str(client.scheduler.address)
    except AttributeError:
        return "?"


def _alive(client: Any, timeout: float) -> bool:
    """Whether the scheduler answers a ping within ``timeout`` seconds."""
    try:
        client.sync(client.scheduler.identity, callback_timeout=timeout)
    except Exception:
        return False
    return True


def _check_alive(client: Any, timeout: float) -> None:
    """Raise :class:`SchedulerLost` unless the scheduler answers a ping (after ``timeout``
    seconds without news)."""
    if not _alive(client, timeout):
        raise _lost(client, f"no answer for {2 * timeout:g} seconds; see --scheduler-timeout")


def _lost(client: Any, why: object) -> SchedulerLost:
    return SchedulerLost(f"the Dask scheduler at {_address(client)} went away ({why}); the "
                         f"run stopped")


def run_remote(client: Any, function: Callable[[Any], Any], items: Sequence[Any],
               timeout: float) -> Iterator[tuple[int, Any]]:
    """``(index, function(items[index]))`` as the cluster finishes them."""
    from distributed import wait
    from distributed.client import ClosedClientError, FutureCancelledError, FuturesCancelledError
    from distributed.comm import CommClosedError
    from distributed.scheduler import KilledWorker

    gone = (FutureCancelledError, FuturesCancelledError, CommClosedError, ClosedClientError,
            OSError)
    pending: set[Any] = set()
    try:
        with warnings.catch_warnings():  # a big run's blocks carry their input draws
            warnings.filterwarnings("ignore", message="Sending large graph")
            futures = client.map(function, items, pure=False)
        where = {future.key: index for index, future in enumerate(futures)}
        pending = set(futures)
        while pending:
            try:
                done, pending = wait(pending, timeout=timeout, return_when="FIRST_COMPLETED")
            except TimeoutError:
                _check_alive(client, timeout)
                continue
            for future in done:
                index = where[future.key]
                while True:  # fetching a result needs the scheduler too
                    try:
                        value = future.result(timeout=timeout)
                        break
                    except KilledWorker as err:
                        raise RunError(f"block {index}: every Dask worker that ran it died "
                                       f"({err})") from None
                    except TimeoutError:
                        _check_alive(client, timeout)
                future.release()
                yield index, value
    except gone as err:
        reason = ("the connection was lost" if isinstance(err, FutureCancelledError |
                                                          FuturesCancelledError)
                  else f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
        raise _lost(client, reason) from None
    finally:
        for future in pending:
            future.release()
