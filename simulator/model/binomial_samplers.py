"""The compiled kernel's exact binomial sampler, over lanes of paths at once (numba).

``p > 1/2`` by symmetry; inversion as for the Poisson of :mod:`.samplers` (NumPy's
recursion, a fixed number of steps for every lane, then one lane at a time past it) while
``n min(p, 1 - p)`` is at most :data:`~.samplers.INVERSION_MAX`; Hormann's BTRS above. The
uniforms are those of :mod:`.samplers` (counters of path, month, stream and attempt).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .samplers import (
    INVERSION_MAX,
    LANES,
    RECIPROCALS,
    counter,
    exp_neg,
    inline,
    jit,
    log_factorial,
    proposal,
    steps_for,
    uniform_at,
)


@inline
def _binomial_search(n: np.ndarray, p: np.ndarray, log_q: np.ndarray, out: np.ndarray,
                     k0: Any, k1: Any, path0: int, month: int, stream: int,
                     head: int, tail: int) -> None:
    """Every lane's inversion of Binomial(n, min(p, 1 - p)) (``log_q = log(1 - min(p,
    1 - p))``), ``head + 3 tail`` steps each, as :func:`_poisson_search` (its longer body
    unrolls in loops of 16 steps)."""
    for i in range(n.size):
        small = min(p[i], 1.0 - p[i])
        trials = n[i] if n[i] * small <= INVERSION_MAX else 0.0
        ratio = small / (1.0 - small)
        after = trials + 1.0
        px = exp_neg(-trials * log_q[i])
        left = uniform_at(k0, k1, counter(path0 + i, month, stream)) - px
        k = 0.0
        for j in range(1, head + 1):
            k += 1.0 if left > 0.0 else 0.0
            px *= max(after - j, 0.0) * ratio * RECIPROCALS[j]
            left -= px
        for j in range(head + 1, head + tail + 1):
            k += 1.0 if left > 0.0 else 0.0
            px *= max(after - j, 0.0) * ratio * RECIPROCALS[j]
            left -= px
        for j in range(head + tail + 1, head + 2 * tail + 1):
            k += 1.0 if left > 0.0 else 0.0
            px *= max(after - j, 0.0) * ratio * RECIPROCALS[j]
            left -= px
        for j in range(head + 2 * tail + 1, head + 3 * tail + 1):
            k += 1.0 if left > 0.0 else 0.0
            px *= max(after - j, 0.0) * ratio * RECIPROCALS[j]
            left -= px
        out[i] = k


@inline
def _binomial_search_from_zero(n: float, small: float, log_q: float, k0: Any, k1: Any,
                               count: Any) -> float:
    """The search of :func:`_binomial_search` to its end (one lane), starting again with a
    fresh uniform past NumPy's bound min(n, mean + 10 sqrt(mean q + 1))."""
    ratio = small / (1.0 - small)
    first = exp_neg(-n * log_q)
    bound = min(n, n * small + 10.0 * math.sqrt(n * small * (1.0 - small) + 1.0))
    u = uniform_at(k0, k1, count)
    attempt = 0
    while True:
        px = first
        left = u - px
        x = 0
        while left > 0.0 and x <= bound:
            x += 1
            px *= (n - x + 1.0) * ratio * (RECIPROCALS[x] if x < 256 else 1.0 / x)
            left -= px
        if x <= bound:
            return float(x)
        attempt += 1
        u = uniform_at(k0, k1, count + np.uint64(attempt + 64))


@jit
def binomial_lanes(n: np.ndarray, p: np.ndarray, log_q: np.ndarray, out: np.ndarray,
                   k0: Any, k1: Any, path0: int, month: int, stream: int) -> None:
    """A Binomial(n[i], p[i]) count into ``out[i]`` for every lane (``n`` whole numbers as
    floats, ``p`` in [0, 1], ``log_q[i] = log(1 - min(p[i], 1 - p[i]))``)."""
    largest = 0.0  # the largest n min(p, 1 - p) drawn by inversion
    for i in range(n.size):
        mean = n[i] * min(p[i], 1.0 - p[i])
        if mean <= INVERSION_MAX:
            largest = max(largest, mean)
    steps = steps_for(largest)
    if steps == 8:
        _binomial_search(n, p, log_q, out, k0, k1, path0, month, stream, 8, 0)
    elif steps == 16:
        _binomial_search(n, p, log_q, out, k0, k1, path0, month, stream, 16, 0)
    elif steps == 32:
        _binomial_search(n, p, log_q, out, k0, k1, path0, month, stream, 8, 8)
    else:
        _binomial_search(n, p, log_q, out, k0, k1, path0, month, stream, 16, 16)
    for i in range(n.size):
        trials, q = n[i], p[i]
        small = min(q, 1.0 - q)
        if trials <= 0.0 or not q > 0.0:
            out[i] = 0.0
            continue
        if q >= 1.0:
            out[i] = trials
            continue
        if trials * small > INVERSION_MAX:
            k = _btrs(trials, small, k0, k1, counter(path0 + i, month, stream))
        elif out[i] >= steps or out[i] > trials:
            k = _binomial_search_from_zero(trials, small, log_q[i], k0, k1,
                                           counter(path0 + i, month, stream))
        else:
            k = out[i]
        out[i] = trials - k if q > 0.5 else k


@jit
def _btrs(n: float, p: float, k0: Any, k1: Any, count: Any) -> float:
    """Hormann's BTRS (1993) with the exact acceptance test; p <= 1/2, n p > 10."""
    q = 1.0 - p
    spq = math.sqrt(n * p * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    vr = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    lpq = math.log(p / q)
    m = math.floor((n + 1) * p)
    h = log_factorial(m) + log_factorial(n - m)
    attempt = 0
    while True:
        u, v, us = proposal(k0, k1, count, attempt)
        attempt += 2
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= vr:
            return k
        v = math.log(v * alpha / (a / (us * us) + b))
        if v <= h - log_factorial(k) - log_factorial(n - k) + (k - m) * lpq:
            return k


@inline
def log_q(p: float) -> float:
    """``log(1 - min(p, 1 - p))`` (0 outside (0, 1)): what the binomial samplers take."""
    return math.log1p(-min(p, 1.0 - p)) if 0.0 < p < 1.0 else 0.0


@jit
def binomial_many(keys: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """One binomial draw per (n, p) pair, as :func:`.samplers.poisson_many`."""
    out = np.empty(n.size)
    trials = n.astype(np.float64)
    logs = np.empty(n.size)
    for i in range(n.size):
        logs[i] = log_q(p[i])
    for start in range(0, n.size, LANES):
        stop = min(start + LANES, n.size)
        binomial_lanes(trials[start:stop], p[start:stop], logs[start:stop], out[start:stop],
                       keys[0], keys[1], start, 0, 0)
    return out.astype(np.int64)


