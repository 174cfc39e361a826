"""The compiled rank step of Iman-Conover (numba, the ``fast`` extra).

Both sorts are bucket sorts: ``n`` equal-width buckets between the smallest and the largest
value (a monotone map, so the buckets come out in order), a counting pass, a stable scatter,
then one insertion sort that only has to fix the order inside each bucket (about one value
per bucket for uniforms, a few for normal scores; a column with a crowded bucket is merge
sorted instead). The order found is exactly NumPy's stable
``argsort``, ties in index order, at a fraction of its cost. The functions release the GIL,
so columns run in parallel on threads.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._compiled import jit, on_main_thread
from .base import FloatArray

prange: Any
try:
    from numba import prange
except ImportError:  # without numba this module still imports (doctests) and is never used
    prange = range

CROWDED = 32  # more values than this in one bucket: sort the column by merge sort instead


@jit(inline="always")
def _transpose_block(matrix: FloatArray, out: FloatArray, block: int, size: int) -> None:
    rows, columns = matrix.shape
    if rows >= columns:
        for i in range(block * size, min(rows, (block + 1) * size)):
            for j in range(columns):
                out[j, i] = matrix[i, j]
    else:
        stop = min(columns, (block + 1) * size)
        for i in range(rows):
            for j in range(block * size, stop):
                out[j, i] = matrix[i, j]


@jit(parallel=True)
def _transpose_parallel(matrix: FloatArray, out: FloatArray, size: int) -> None:
    for block in prange((max(matrix.shape) + size - 1) // size):
        _transpose_block(matrix, out, block, size)


@jit(nogil=True)
def _transpose_serial(matrix: FloatArray, out: FloatArray, size: int) -> None:
    for block in range((max(matrix.shape) + size - 1) // size):
        _transpose_block(matrix, out, block, size)


def transpose(matrix: FloatArray) -> FloatArray:
    """A C-contiguous copy of ``matrix.T``, by blocks of the longer side (on every core
    from the main thread, see :func:`distributions._beta_compiled._evaluate`)."""
    out = np.empty(matrix.shape[::-1])
    if on_main_thread():
        _transpose_parallel(matrix, out, 4096)
    else:
        _transpose_serial(matrix, out, 4096)
    return out


@jit(inline="always")
def _bucket(value: float, low: float, scale: float, last: int) -> int:
    return min(int((value - low) * scale), last)


@jit(nogil=True)
def _spread(keys: FloatArray, index: np.ndarray, start: int, stop: int, buckets: int,
            counts: np.ndarray, out: FloatArray, out_index: np.ndarray) -> bool:
    """Counting-sort ``keys[start:stop]`` into ``buckets`` equal-width buckets, stably, into
    the same positions of ``out``, and their ``index`` (the positions themselves if it is
    empty) into ``out_index`` unless that is empty. False, with nothing written, when one
    bucket would hold more than :data:`CROWDED` values and ``buckets`` is the segment's
    length (a second level would not help)."""
    keep, identity = out_index.size > 0, index.size == 0
    low, high = keys[start], keys[start]
    for i in range(start + 1, stop):
        low, high = min(low, keys[i]), max(high, keys[i])
    scale = buckets / (high - low) if high > low else 0.0
    counts[: buckets + 1] = 0
    for i in range(start, stop):
        counts[_bucket(keys[i], low, scale, buckets - 1) + 1] += 1
    if buckets == stop - start and counts[: buckets + 1].max() > CROWDED:
        return False
    counts[0] = start
    for b in range(buckets):
        counts[b + 1] += counts[b]
    for i in range(start, stop):
        b = _bucket(keys[i], low, scale, buckets - 1)
        position = counts[b]
        counts[b] = position + 1
        out[position] = keys[i]
        if keep:
            out_index[position] = i if identity else index[i]
    return True


@jit(nogil=True)
def _bucket_sort(values: FloatArray, index: np.ndarray) -> FloatArray:
    """``values`` sorted; ``index`` (if not empty) receives the stable argsort.

    Two levels of buckets: about 512 values a bucket first (few enough buckets for the
    scatter to stay in cache), then each bucket's values into as many buckets as it has
    values, and an insertion sort for the few left out of order."""
    n = values.size
    keep = index.size > 0
    if n < 2:
        index[:] = 0
        return values.copy()
    for i in range(n):
        if not math.isfinite(values[i]):  # NaN or infinite: no equal-width buckets
            order = np.argsort(values, kind="mergesort")
            if keep:
                index[:] = order
            return values[order]
    coarse = max(1, min(4096, n // 512))
    counts = np.empty(max(coarse, n // coarse * 4) + 1, np.int64)
    staged, staged_index = np.empty(n), np.empty(n if keep else 0, np.int64)
    _spread(values, np.empty(0, np.int64), 0, n, coarse, counts, staged, staged_index)
    starts = np.zeros(coarse + 1, np.int64)
    starts[1:] = counts[:coarse]  # after the scatter, each bucket's count is its end
    out = np.empty(n)
    for b in range(coarse):
        start, stop = starts[b], starts[b + 1]
        if start == stop:
            continue
        size = stop - start
        if size > counts.size - 1:
            counts = np.empty(size + 1, np.int64)
        if not _spread(staged, staged_index, start, stop, size, counts, out, index):
            order = np.argsort(staged[start:stop], kind="mergesort")  # crowded: merge sort
            out[start:stop] = staged[start:stop][order]
            if keep:
                index[start:stop] = staged_index[start:stop][order]
            continue
        for i in range(start + 1, stop):  # insertion sort inside the bucket
            value = out[i]
            j = i
            if keep:
                origin = index[i]
                while j > start and out[j - 1] > value:
                    out[j] = out[j - 1]
                    index[j] = index[j - 1]
                    j -= 1
                index[j] = origin
            else:
                while j > start and out[j - 1] > value:
                    out[j] = out[j - 1]
                    j -= 1
            out[j] = value
    return out


@jit(nogil=True)
def stable_argsort(values: FloatArray) -> np.ndarray:
    """NumPy's ``argsort(values, kind="stable")``."""
    order = np.empty(values.size, np.int64)
    _bucket_sort(values, order)
    return order


@jit(nogil=True)
def sort(values: FloatArray) -> FloatArray:
    """NumPy's ``sort(values)``."""
    return _bucket_sort(values, np.empty(0, np.int64))


@jit(nogil=True)
def place(order: np.ndarray, ordered: FloatArray) -> FloatArray:
    """``out`` with ``out[order] = ordered``."""
    out = np.empty(ordered.size)
    for k in range(ordered.size):
        out[order[k]] = ordered[k]
    return out


@jit(nogil=True)
def rearrange(scores: FloatArray, values: FloatArray) -> FloatArray:
    """``values`` rearranged so that the k-th smallest sits where the k-th smallest score is
    (ties among the scores in index order, as a stable argsort)."""
    return place(stable_argsort(scores), sort(values))
