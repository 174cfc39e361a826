"""How a run executes: in this process, on forked worker processes, or on a Dask cluster,
with how much memory for trajectories and in blocks of how many paths."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

BLOCK_PATHS = 4096
SCHEDULER_TIMEOUT = 30.0  # seconds a Dask scheduler may stay silent before the run stops


def resolve_workers(workers: int | str | None) -> int:
    """``None`` -> 1, ``"auto"`` -> all cores, else the integer itself (>= 1).

    >>> resolve_workers(None), resolve_workers(3)
    (1, 3)
    """
    if workers is None:
        return 1
    if workers == "auto":
        return os.cpu_count() or 1
    return max(1, int(workers))


@dataclass(frozen=True)
class Execution:
    """Where and how the blocks of a run execute; none of it changes the numbers except
    ``block_paths`` (each block draws its own streams, keyed by the block's index).

    Parameters
    ----------
    workers
        Processes that run blocks in parallel: an integer, or ``"auto"`` for all cores.
    memory
        Bytes of trajectories the result may keep (None: 1 GiB); a bigger run keeps reduced
        storage (see :mod:`simulator.engine.storage`).
    client
        A ``dask.distributed.Client``: the blocks run on its cluster instead.
    scheduler_timeout
        Seconds the Dask scheduler may stay silent (no block finished and no answer to a
        ping) before the run stops with :class:`~simulator.engine.faults.SchedulerLost`.
    block_paths
        Paths per block.
    """

    workers: int | str = 1
    memory: int | None = None
    client: Any = None
    scheduler_timeout: float = SCHEDULER_TIMEOUT
    block_paths: int = BLOCK_PATHS

    def __post_init__(self) -> None:
        if self.block_paths < 1:
            raise ValueError(f"block_paths must be >= 1 (got {self.block_paths})")
        if not self.scheduler_timeout > 0:
            raise ValueError(f"scheduler_timeout must be > 0 (got {self.scheduler_timeout})")

    def processes(self, blocks: int) -> int:
        """Worker processes to start for ``blocks`` blocks (1: run them here)."""
        if self.client is not None:
            return 1
        return min(resolve_workers(self.workers), blocks)
