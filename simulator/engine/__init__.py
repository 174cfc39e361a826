"""Running a config: seeds, blocks of paths, workers and Dask, storage and the memory budget,
progress, and the :class:`Result` a run returns."""

from .results import Result
from .runner import run

__all__ = ["Result", "run"]
