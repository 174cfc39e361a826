"""Month-major rows: how the compiled kernel and a run's storage lay out (metric, month,
path) arrays.

A month of many paths side by side is what the compiled kernel computes at once and what a
percentile at a month reads; ``rows[metric, month, path]`` is one such array for every
metric, and ``rows[k, :, :paths].T`` the (paths, months) view a result shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def row_length(paths: int) -> int:
    """The length of a month's row of ``paths``: a whole number of 64-byte cache lines, and
    an odd one. Rows a multiple of 4 KiB apart map to the same sets of the L1 cache, and
    writing a dozen of them at once, as a month's pass does, then misses the cache every
    time.

    >>> row_length(4096), row_length(100), row_length(1)
    (4104, 104, 8)
    """
    lines = -(-paths // 8)
    return 8 * (lines + 1 - lines % 2)


@dataclass(frozen=True)
class Target:
    """Where a block's rows go in a run's storage: ``rows[index[name], month, start + i]``
    is path i of the block."""

    rows: np.ndarray
    index: dict[str, int]
    start: int

    def views(self, names: tuple[str, ...], n: int) -> dict[str, np.ndarray]:
        """The block's (paths, months) view of each metric in ``names``."""
        return {name: self.rows[self.index[name], :, self.start:self.start + n].T
                for name in names}
