"""numba, when the ``fast`` extra is installed: found without importing it, loaded on first use.

Only large arrays take the compiled paths (importing numba and loading the cached machine code
costs about 0.3 s once per process), so a plain run never imports it.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

#: arrays at least this long take the compiled paths when numba is installed
COMPILED_FROM = 50_000


@functools.cache
def available() -> bool:
    """Whether numba is installed (without importing it)."""
    return importlib.util.find_spec("numba") is not None


_STATE = threading.local()


@contextlib.contextmanager
def compiled_paths(on: bool = True) -> Iterator[None]:
    """Within the block, on this thread, arrays of any size take the compiled paths where
    numba is installed (``on=False``: the usual rule). For callers that pay numba's import
    anyway and convert many small arrays: the compiled kernel's blocks of paths.

    >>> with compiled_paths():
    ...     wanted(10) == available()
    True
    """
    before = getattr(_STATE, "everywhere", False)
    _STATE.everywhere = on
    try:
        yield
    finally:
        _STATE.everywhere = before


def wanted(size: int) -> bool:
    """Whether an array of ``size`` values should take a compiled path."""
    return (size >= COMPILED_FROM or getattr(_STATE, "everywhere", False)) and available()


def on_main_thread() -> bool:
    """Whether the caller is the main thread: only it enters numba's parallel loops."""
    return threading.current_thread() is threading.main_thread()


def jit(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit`` with IEEE division, cached on disk where the cache directory is
    writable (in memory otherwise); without numba the function stays as it is (the modules
    still import, and are never used)."""
    try:
        import numba
    except ImportError:
        return lambda function: function
    if "NUMBA_THREADING_LAYER" not in os.environ:
        # the simulator forks worker processes after sampling on every core: GNU OpenMP
        # (numba's first choice without TBB) aborts a forked child; workqueue does not, and
        # only the main thread launches parallel loops here (its one limitation)
        setattr(numba.config, "THREADING_LAYER", "workqueue")  # noqa: B010 (untyped module)

    def compile_(function: Callable[..., Any]) -> Any:
        try:
            return numba.njit(cache=True, error_model="numpy", **options)(function)
        except RuntimeError:  # no writable cache location
            return numba.njit(error_model="numpy", **options)(function)

    return compile_
