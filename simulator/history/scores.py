"""Scores of forecast samples against what happened: interval coverage, CRPS and PIT.

Forecasts are Monte Carlo samples, shape (paths, k), scored against k actual values.
Counts tie with the samples, so coverage is computed from the randomised probability
integral transform (PIT) without the randomisation: the PIT of an actual value y is uniform
on [F(y-), F(y)], and the score is the share of that range inside the interval. A right
forecast then covers 80% (P10-P90) whether the counts are large or small.

>>> import numpy as np
>>> x = np.arange(1000.0)[:, None]          # samples 0..999 of one forecast
>>> coverage(x, np.array([500.0]), 0.8).tolist(), coverage(x, np.array([950.0]), 0.8).tolist()
([1.0], [0.0])
>>> round(float(crps(x, np.array([500.0]))[0]), 1)   # ~ (n/3)(1/4) for a uniform forecast
83.3
"""

from __future__ import annotations

import numpy as np


def pit_range(samples: np.ndarray, actual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F(y-) and F(y) of each actual under its column of samples."""
    below = np.mean(samples < actual[None, :], axis=0)
    at_or_below = np.mean(samples <= actual[None, :], axis=0)
    return below, at_or_below


def coverage(samples: np.ndarray, actual: np.ndarray, level: float) -> np.ndarray:
    """The share of each actual's PIT range inside the central ``level`` interval (1 or 0 for
    a continuous forecast)."""
    low, high = (1.0 - level) / 2.0, (1.0 + level) / 2.0
    f_lo, f_hi = pit_range(samples, actual)
    width = f_hi - f_lo
    overlap = np.clip(np.minimum(f_hi, high) - np.maximum(f_lo, low), 0.0, None)
    inside = ((f_lo >= low) & (f_lo <= high)).astype(float)
    return np.where(width > 0, overlap / np.where(width > 0, width, 1.0), inside)


def pit(samples: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """The mid PIT, (F(y-) + F(y)) / 2, of each actual."""
    f_lo, f_hi = pit_range(samples, actual)
    return (f_lo + f_hi) / 2.0


def crps(samples: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """The continuous ranked probability score of each column: E|X - y| - E|X - X'| / 2
    (the samples' empirical distribution; lower is better, in the metric's unit)."""
    x = np.sort(samples, axis=0)
    n = x.shape[0]
    first = np.mean(np.abs(x - actual[None, :]), axis=0)
    weights = (2.0 * np.arange(1, n + 1) - n - 1.0)[:, None]
    spread = 2.0 * np.sum(weights * x, axis=0) / n**2
    return first - spread / 2.0
