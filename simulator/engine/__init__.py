"""Running a config: seeds, blocks of paths, workers and Dask, storage and the memory budget,
progress, faults, and the :class:`Result` a run returns."""

from .execution import Execution
from .faults import RunError
from .results import Result
from .runner import run

__all__ = ["Execution", "Result", "RunError", "run"]
