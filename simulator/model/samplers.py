"""Exact samplers for the compiled kernel: xoshiro256**, Poisson and binomial (numba).

Every function here is compiled with numba when the ``fast`` extra is installed
(:data:`AVAILABLE`); without numba they stay plain Python (correct, slow, and never chosen by
the engine). The generator is xoshiro256** (Blackman and Vigna), its 256-bit state a
``uint64[4]`` array seeded from a :class:`numpy.random.SeedSequence` keyed by name, so a
stream is fixed by its keys whichever process draws it.

The samplers are exact (no normal approximation) and chosen for the sizes the funnel has:

- Poisson: inversion by sequential search from 0 (``exp(-lam)`` and the ratio recurrence)
  below :data:`POISSON_INVERSION`, Hormann's transformed rejection with squeeze (PTRS, the
  algorithm NumPy uses) above it; inversion costs ``lam + 1`` steps and no setup, PTRS a
  fixed setup of a square root and a logarithm and about 1.2 iterations.
- Binomial: ``p > 1/2`` by symmetry; inversion from 0 (NumPy's, with its restart bound)
  while ``n p`` is below :data:`BINOMIAL_INVERSION`, Hormann's BTRS above it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from distributions.joint import root_seed

numba: Any
try:
    import numba
except ImportError:  # the ``fast`` extra is not installed
    numba = None

AVAILABLE = numba is not None
POISSON_INVERSION = 10.0  # means below this are drawn by inversion
BINOMIAL_INVERSION = 10.0  # n * min(p, 1 - p) below this: inversion; else BTRS
#: 1/k for the inversion searches: a multiplication per step instead of a division
_RECIPROCALS = 1.0 / np.maximum(np.arange(64, dtype=np.float64), 1.0)
#: log(k!) for k < 1024 (math.lgamma(k + 1), read from a table in the rejection tests)
_LOG_FACTORIALS = np.array([math.lgamma(k + 1.0) for k in range(1024)])



def jit(function: Callable[..., Any]) -> Any:
    """Compile ``function`` with numba (IEEE division, cached on disk where the cache
    directory is writable); without numba, return it unchanged."""
    return _compile(function, {})


def inline(function: Callable[..., Any]) -> Any:
    """:func:`jit`, inlined into its callers (small functions of the inner loops: no call,
    and no reference counting of the arrays passed)."""
    return _compile(function, {"inline": "always"})


def _compile(function: Callable[..., Any], options: dict[str, Any]) -> Any:
    if numba is None:
        return function
    try:
        return numba.njit(cache=True, error_model="numpy", **options)(function)
    except RuntimeError:  # no writable cache location: compile in memory only
        return numba.njit(error_model="numpy", **options)(function)


def seed_state(seed: int | np.random.SeedSequence, *keys: int) -> np.ndarray:
    """The xoshiro256** state (``uint64[4]``) of the stream keyed by ``keys`` under ``seed``.

    >>> bool((seed_state(11, 3) == seed_state(11, 3)).all())
    True
    """
    root = root_seed(seed)
    words = tuple(w for key in keys for w in (key & 0xFFFFFFFF, key >> 32))
    sequence = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, 0x6B65726E,
                                                                *words))
    state = sequence.generate_state(4, np.uint64)
    if not state.any():  # the one state xoshiro cannot leave
        state[0] = np.uint64(1)
    return state


@inline
def _log_factorial(k: float) -> float:
    return float(_LOG_FACTORIALS[int(k)]) if k < 1024 else math.lgamma(k + 1.0)


@inline
def _splitmix64(x: Any) -> tuple[Any, Any]:
    """SplitMix64: the next state and its output (how xoshiro states are seeded)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    z = x
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x, z ^ (z >> np.uint64(31))


@inline
def seed_path(s: np.ndarray, key: Any, path: int) -> None:
    """Set ``s`` to the xoshiro256** state of path ``path`` of the stream keyed ``key``
    (``uint64``): four SplitMix64 outputs from ``key`` plus an odd multiple of the path.
    Each path then has its own stream, so its draws depend on nothing but its keys."""
    x = key + np.uint64(path) * np.uint64(0xD1342543DE82EF95)
    for j in range(4):
        x, s[j] = _splitmix64(x)


@inline
def seed_month(s: np.ndarray, key: Any, path: int, month: int) -> None:
    """Set ``s`` to the state of month ``month`` of path ``path`` of the stream keyed
    ``key``: month-addressed streams, drawn only in the months that need them."""
    x = key + np.uint64(path) * np.uint64(0xD1342543DE82EF95) \
        + np.uint64(month + 1) * np.uint64(0xAF251AF3B0F025B5)
    for j in range(4):
        x, s[j] = _splitmix64(x)


@inline
def _rotl(x: Any, k: Any) -> Any:
    return (x << k) | (x >> (np.uint64(64) - k))


@inline
def next_u64(s: np.ndarray) -> Any:
    """The next 64 random bits of state ``s`` (advanced in place)."""
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    result = _rotl(s1 * np.uint64(5), np.uint64(7)) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, np.uint64(45))
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3
    return result


@inline
def uniform(s: np.ndarray) -> float:
    """A uniform double in [0, 1) with 53 random bits."""
    return float(next_u64(s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@inline
def poisson(s: np.ndarray, lam: float) -> int:
    """One Poisson(lam) draw (0 for lam <= 0)."""
    return poisson_given(s, lam, poisson_first(lam))


@inline
def poisson_first(lam: float) -> float:
    """What :func:`poisson_given` needs besides the mean: ``exp(-lam)`` where the draw is
    by inversion, else 0. Computing it for several draws before making them lets their
    exponentials overlap instead of each waiting for the branches of the draw before."""
    return math.exp(-lam) if 0.0 < lam < POISSON_INVERSION else 0.0


@inline
def poisson_given(s: np.ndarray, lam: float, first: float) -> int:
    """:func:`poisson` given ``first = poisson_first(lam)``."""
    if not lam > 0.0:
        return 0
    if lam < POISSON_INVERSION:
        u = uniform(s)
        p = first
        k = 0
        while u > p:
            u -= p
            k += 1
            p *= lam * _RECIPROCALS[k] if k < 64 else lam / k
            if p <= 0.0:  # rounding left u beyond the last term: start again
                u = uniform(s)
                p = first
                k = 0
        return k
    return _poisson_ptrs(s, lam)


@jit
def _poisson_ptrs(s: np.ndarray, lam: float) -> int:
    """Hormann's PTRS (1993), as NumPy's ``random_poisson_ptrs``; for lam >= 10."""
    slam = math.sqrt(lam)
    loglam = -1.0  # log(lam), computed on the first draw that needs it
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = uniform(s) - 0.5
        v = uniform(s)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return int(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if loglam < 0.0:
            loglam = math.log(lam)
        # NumPy's log(v) + log(invalpha) - log(a / us^2 + b), as one logarithm
        if math.log(v * invalpha / (a / (us * us) + b)) <= -lam + k * loglam - _log_factorial(k):
            return int(k)


@inline
def binomial(s: np.ndarray, n: int, p: float) -> int:
    """One Binomial(n, p) draw (``p`` clipped to [0, 1])."""
    return binomial_logq(s, n, p, math.log1p(-min(p, 1.0 - p)) if 0.0 < p < 1.0 else 0.0)


@inline
def binomial_logq(s: np.ndarray, n: int, p: float, log_q: float) -> int:
    """:func:`binomial` given ``log_q = log(1 - min(p, 1 - p))`` (computed once for a
    probability drawn once per path)."""
    return binomial_given(s, n, p, binomial_first(n, p, log_q))


@inline
def binomial_first(n: int, p: float, log_q: float) -> float:
    """What :func:`binomial_given` needs besides ``n`` and ``p``: ``(1 - p)^n``
    (``p <= 1/2``, else ``p^n``) where the draw is by inversion, else 0 (see
    :func:`poisson_first`)."""
    if n <= 0 or not 0.0 < p < 1.0 or n * min(p, 1.0 - p) >= BINOMIAL_INVERSION:
        return 0.0
    return math.exp(n * log_q)


@inline
def binomial_given(s: np.ndarray, n: int, p: float, first: float) -> int:
    """:func:`binomial_logq` given ``first = binomial_first(n, p, log_q)``."""
    if n <= 0 or not p > 0.0:
        return 0
    if p >= 1.0:
        return n
    small = min(p, 1.0 - p)
    if n * small < BINOMIAL_INVERSION:
        k = _binomial_inversion(s, n, small, first)
    else:
        k = _binomial_btrs(s, n, small)
    return n - k if p > 0.5 else k


@inline
def _binomial_inversion(s: np.ndarray, n: int, p: float, qn: float) -> int:
    """Sequential search from 0, as NumPy's ``random_binomial_inversion`` (p <= 1/2, and
    ``qn = (1 - p)^n``), with a multiplication by 1/x per step."""
    q = 1.0 - p
    ratio = p / q
    mean = n * p
    x = 0
    px = qn
    u = uniform(s)
    while u > px:
        x += 1
        # NumPy's bound min(n, mean + 10 sqrt(mean q + 1)), its square root only when needed
        if x > n or (x > mean + 10.0 and x > mean + 10.0 * math.sqrt(mean * q + 1.0)):
            x = 0
            px = qn
            u = uniform(s)
        else:
            u -= px
            px *= (n - x + 1) * ratio * (_RECIPROCALS[x] if x < 64 else 1.0 / x)
    return x


@jit
def _binomial_btrs(s: np.ndarray, n: int, p: float) -> int:
    """Hormann's BTRS (1993) with the exact acceptance test; p <= 1/2, n p >= 10."""
    q = 1.0 - p
    spq = math.sqrt(n * p * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    vr = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    lpq = math.log(p / q)
    m = math.floor((n + 1) * p)
    h = _log_factorial(m) + _log_factorial(n - m)
    while True:
        u = uniform(s) - 0.5
        v = uniform(s)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= vr:
            return int(k)
        v = math.log(v * alpha / (a / (us * us) + b))
        if v <= h - _log_factorial(k) - _log_factorial(n - k) + (k - m) * lpq:
            return int(k)


@jit
def poisson_many(s: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """One Poisson draw per mean (for tests and benchmarks)."""
    out = np.empty(lam.size, dtype=np.int64)
    for i in range(lam.size):
        out[i] = poisson(s, lam[i])
    return out


@jit
def binomial_many(s: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """One binomial draw per (n, p) pair (for tests and benchmarks)."""
    out = np.empty(n.size, dtype=np.int64)
    for i in range(n.size):
        out[i] = binomial(s, n[i], p[i])
    return out
