"""Exact samplers for the compiled kernel, over lanes of paths at once (numba).

Every function here is compiled with numba when the ``fast`` extra is installed
(:data:`AVAILABLE`); without numba they stay plain Python (correct, slow, and never chosen by
the engine).

**Uniforms** are counter-based: the uniform of (path, month, stream, attempt) under a block's
two 64-bit keys (from a :class:`numpy.random.SeedSequence` keyed by seed and block) is the
counter times the golden gamma plus the first key, through the SplitMix64 finalizer, xored
with the second key and through the finalizer again. There is no state to carry, so a path's
numbers depend on nothing but its keys and counters: the same on 1 or N workers or on Dask,
its first months the same whatever the horizon, and a month that is not kept need not be
drawn. And a lane's draw is straight-line code, which LLVM vectorizes across lanes.

**Samplers** are exact (no normal approximation):

- Poisson with means up to :data:`INVERSION_MAX`: inversion by sequential search, a fixed
  number of steps K for every lane (8, 16, 32 or 64: the smallest whose tail beyond K has
  probability below 1e-4 at the means of all but :data:`SPARE` lanes in 128), branch-free
  so that the lanes run in SIMD registers, two lanes side by side; a lane whose uniform
  lies beyond the K-th term does the same search again alone, to its end.
- Poisson above it: Hormann's PTRS (the algorithm NumPy uses); when more than
  :data:`SPARE` lanes in 128 need it, the first proposal and its squeeze test for every
  lane at once, the exact acceptance test and further proposals for the lanes the squeeze
  leaves; else all of it lane by lane (the same draws).
- Binomial: in :mod:`.binomial_samplers`.
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
#: the largest mean (Poisson) or n min(p, 1 - p) (binomial) drawn by inversion
INVERSION_MAX = 38.0
#: the steps of the branch-free search, and the largest mean each covers
STEPS = ((8, 1.38), (16, 5.16), (32, 15.08), (64, INVERSION_MAX))
#: the lanes in 128 that may go beyond the search's steps (see :func:`poisson_lanes`)
SPARE = 8
#: 1/k for the searches: a multiplication per step instead of a division
RECIPROCALS = 1.0 / np.maximum(np.arange(256, dtype=np.float64), 1.0)
#: log(k!) for k < 1024 (math.lgamma(k + 1), read from a table in the rejection tests)
_LOG_FACTORIALS = np.array([math.lgamma(k + 1.0) for k in range(1024)])
#: 2^-k, for exp(-x) = 2^-k exp(r)
_POW2 = np.array([2.0 ** -k for k in range(1100)])
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_GAMMA = 0x9E3779B97F4A7C15
_TO_UNIT = 1.0 / 9007199254740992.0  # 2^-53


def jit(function: Callable[..., Any]) -> Any:
    """Compile ``function`` with numba (IEEE division, cached on disk where the cache
    directory is writable); without numba, return it unchanged."""
    return _compile(function, {})


def inline(function: Callable[..., Any]) -> Any:
    """:func:`jit`, inlined into its callers (small functions of the inner loops: no call,
    constants propagate into them, and no reference counting of the arrays passed)."""
    return _compile(function, {"inline": "always"})


def _compile(function: Callable[..., Any], options: dict[str, Any]) -> Any:
    if numba is None:
        return function
    try:
        return numba.njit(cache=True, error_model="numpy", **options)(function)
    except RuntimeError:  # no writable cache location: compile in memory only
        return numba.njit(error_model="numpy", **options)(function)


def seed_state(seed: int | np.random.SeedSequence, *keys: int) -> np.ndarray:
    """Four 64-bit words (``uint64[4]``) keyed by ``keys`` under ``seed``: the first two are
    the keys of :func:`uniform_at`.

    >>> bool((seed_state(11, 3) == seed_state(11, 3)).all())
    True
    """
    root = root_seed(seed)
    words = tuple(w for key in keys for w in (key & 0xFFFFFFFF, key >> 32))
    sequence = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, 0x6B65726E,
                                                                *words))
    return sequence.generate_state(4, np.uint64)


@inline
def _mix(z: Any) -> Any:
    """The SplitMix64 finalizer (a bijection of 64-bit words)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@inline
def counter(path: int, month: int, stream: int) -> Any:
    """The counter of attempt 0 of (path, month, stream); attempt ``a`` is ``counter + a``.
    Paths below 2^24, months below 2^16, streams below 256, attempts below 2^16."""
    return (np.uint64(path) << np.uint64(40)) | (np.uint64(month) << np.uint64(24)) \
        | (np.uint64(stream) << np.uint64(16))


@inline
def uniform_at(k0: Any, k1: Any, count: Any) -> float:
    """The uniform in [0, 1) (53 random bits) of counter ``count`` under keys (k0, k1)."""
    z = _mix(k0 + count * np.uint64(_GAMMA))
    z = _mix(z ^ k1)
    return float(z >> np.uint64(11)) * _TO_UNIT


@inline
def exp_neg(x: float) -> float:
    """``exp(-x)`` for 0 <= x < 700 (within 4e-16 relative), written to vectorize."""
    k = math.floor(x * 1.4426950408889634 + 0.5)
    r = (k * _LN2_HI - x) + k * _LN2_LO  # -x + k ln 2, |r| <= ln(2) / 2
    p = 1.0 + r * (1.0 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (
        1 / 720 + r * (1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (
            1 / 3628800 + r * (1 / 39916800 + r / 479001600)))))))))))
    return p * _POW2[int(k)]


@inline
def steps_for(largest: float) -> int:
    """The steps of the search for means up to ``largest`` (0: above :data:`INVERSION_MAX`)."""
    for steps, cover in STEPS:
        if largest <= cover:
            return steps
    return 0


@inline
def _poisson_start(lam: np.ndarray, i: int, k0: Any, k1: Any, path0: int, month: int,
                   stream: int) -> tuple[float, float, float]:
    """Lane i's mean (0 if it is not drawn by inversion), first term and uniform minus it."""
    m = lam[i]
    m = m if 0.0 < m <= INVERSION_MAX else 0.0
    p = exp_neg(m)
    return m, p, uniform_at(k0, k1, counter(path0 + i, month, stream)) - p


@inline
def _poisson_search(lam: np.ndarray, out: np.ndarray, k0: Any, k1: Any, path0: int,
                    month: int, stream: int, width: int, blocks: int) -> None:
    """Every lane's inversion, ``blocks`` blocks of ``width`` steps each (a constant once
    inlined, 8 or 16: the block unrolls and the lanes vectorize); a lane that ends at the
    last step is searched again alone later. Lanes i and i + n/2 go side by side: two
    independent chains of products in flight instead of one (1.3-1.5x faster)."""
    half = lam.size // 2
    for i in range(half):
        ma, pa, la = _poisson_start(lam, i, k0, k1, path0, month, stream)
        mb, pb, lb = _poisson_start(lam, i + half, k0, k1, path0, month, stream)
        ka = kb = 0.0
        for block in range(blocks):
            for j in range(1, width + 1):
                r = RECIPROCALS[block * width + j]
                ka += 1.0 if la > 0.0 else 0.0
                kb += 1.0 if lb > 0.0 else 0.0
                pa *= ma * r
                pb *= mb * r
                la -= pa
                lb -= pb
        out[i] = ka
        out[i + half] = kb
    for i in range(2 * half, lam.size):  # an odd lane out
        m, p, left = _poisson_start(lam, i, k0, k1, path0, month, stream)
        k = 0.0
        for j in range(1, width * blocks + 1):
            k += 1.0 if left > 0.0 else 0.0
            p *= m * RECIPROCALS[j]
            left -= p
        out[i] = k


@inline
def _poisson_search_from_zero(m: float, u: float, k0: Any, k1: Any, count: Any) -> float:
    """The same search as :func:`_poisson_search`, to its end (one lane)."""
    first = exp_neg(m)
    attempt = 0
    while True:
        p = first
        left = u - p
        k = 0
        stuck = False
        while left > 0.0:
            k += 1
            p *= m * RECIPROCALS[k] if k < 256 else m / k
            left -= p
            if p <= 0.0 and left > 0.0:  # rounding left u beyond the last term
                stuck = True
                break
        if not stuck:
            return float(k)
        attempt += 1  # start again with a fresh uniform
        u = uniform_at(k0, k1, count + np.uint64(attempt + 64))


@jit
def poisson_lanes(lam: np.ndarray, out: np.ndarray, k0: Any, k1: Any, path0: int,
                  month: int, stream: int) -> None:
    """A Poisson(lam[i]) count into ``out[i]`` for every lane (0 where lam <= 0); lane i is
    path ``path0 + i``.

    The search takes the fewest steps (8, 16, 32 or 64) that cover the means of all but
    :data:`SPARE` lanes in 128 (a lane beyond its steps goes on alone: a few lanes alone
    cost less than more steps for all); PTRS runs its first proposal for every lane at once
    when more than that many lanes need it, else lane by lane."""
    spare = lam.size * SPARE // 128
    above = 0  # lanes above INVERSION_MAX
    over8 = over16 = over32 = 0  # lanes whose mean is beyond each step count's cover
    for i in range(lam.size):
        m = lam[i]
        above += 1 if m > INVERSION_MAX else 0
        over8 += 1 if m > STEPS[0][1] else 0
        over16 += 1 if m > STEPS[1][1] else 0
        over32 += 1 if m > STEPS[2][1] else 0
    steps = 8 if over8 - above <= spare else 16 if over16 - above <= spare else \
        32 if over32 - above <= spare else 64
    if above == lam.size:  # every lane by PTRS
        pass
    elif steps == 8:  # literal step counts: the search unrolls
        _poisson_search(lam, out, k0, k1, path0, month, stream, 8, 1)
    elif steps == 16:
        _poisson_search(lam, out, k0, k1, path0, month, stream, 16, 1)
    elif steps == 32:
        _poisson_search(lam, out, k0, k1, path0, month, stream, 16, 2)
    else:
        _poisson_search(lam, out, k0, k1, path0, month, stream, 16, 4)
    squeezed = above > spare
    if squeezed:
        _ptrs_squeeze(lam, out, k0, k1, path0, month, stream)
    # the lanes not finished above, listed without a branch (it would be mispredicted)
    rest = np.empty(lam.size, dtype=np.int64)
    count = 0
    for i in range(lam.size):
        m = lam[i]
        inverted = m <= INVERSION_MAX
        search_on = inverted & (out[i] >= steps)
        rejected = (not inverted) & ((out[i] < 0.0) | (not squeezed))
        rest[count] = i
        count += 1 if (m > 0.0) & (search_on | rejected) else 0
        out[i] = out[i] if m > 0.0 else 0.0
    for n in range(count):
        i = rest[n]
        m = lam[i]
        if m <= INVERSION_MAX:
            key = counter(path0 + i, month, stream)
            out[i] = _poisson_search_from_zero(m, uniform_at(k0, k1, key), k0, k1, key)
        else:
            out[i] = _ptrs_rest(m, k0, k1, counter(path0 + i, month, stream))


@inline
def proposal(k0: Any, k1: Any, count: Any, attempt: int) -> tuple[float, float, float]:
    """The uniforms of a transformed-rejection proposal (PTRS, BTRS): ``u - 1/2`` and ``v``
    from attempts ``attempt`` and ``attempt + 1`` of ``count``, and ``1/2 - |u - 1/2|``."""
    u = uniform_at(k0, k1, count + np.uint64(attempt)) - 0.5
    v = uniform_at(k0, k1, count + np.uint64(attempt + 1))
    return u, v, 0.5 - abs(u)


@inline
def _ptrs_constants(lam: float) -> tuple[float, float, float, float]:
    b = 0.931 + 2.53 * math.sqrt(lam)
    return (b, -0.059 + 0.02483 * b, 1.1239 + 1.1328 / (b - 3.4),
            0.9277 - 3.6224 / (b - 2.0))


@inline
def _ptrs_squeeze(lam: np.ndarray, out: np.ndarray, k0: Any, k1: Any, path0: int,
                  month: int, stream: int) -> None:
    """PTRS's first proposal for every lane whose mean is above :data:`INVERSION_MAX`,
    kept where its squeeze accepts it; -1 where the rest of the algorithm must decide
    (:func:`_ptrs_rest`). The other lanes keep their ``out``."""
    for i in range(lam.size):
        m = max(lam[i], INVERSION_MAX)
        b, a, _, vr = _ptrs_constants(m)
        u, v, us = proposal(k0, k1, counter(path0 + i, month, stream), 0)
        k = math.floor((2.0 * a / us + b) * u + m + 0.43)
        drawn = k if (us >= 0.07 and v <= vr) else -1.0
        out[i] = drawn if lam[i] > INVERSION_MAX else out[i]


@jit
def _ptrs_rest(lam: float, k0: Any, k1: Any, count: Any) -> float:
    """Hormann's PTRS (1993) for lam > 10 from its first proposal (attempts 0 and 1 of
    ``count``), as NumPy's ``random_poisson_ptrs``."""
    b, a, invalpha, vr = _ptrs_constants(lam)
    loglam = math.log(lam)
    attempt = 0
    while True:
        u, v, us = proposal(k0, k1, count, attempt)
        attempt += 2
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        # NumPy's log(v) + log(invalpha) - log(a / us^2 + b), as one logarithm
        if math.log(v * invalpha / (a / (us * us) + b)) <= -lam + k * loglam - log_factorial(k):
            return k


@inline
def log_factorial(k: float) -> float:
    return float(_LOG_FACTORIALS[int(k)]) if k < 1024 else math.lgamma(k + 1.0)


#: lanes per call of the samplers from the helpers below (the kernel uses its chunks)
LANES = 256


@jit
def poisson_many(keys: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """One Poisson draw per mean, draw i as path i of month 0, stream 0 (for tests and
    benchmarks)."""
    out = np.empty(lam.size)
    for start in range(0, lam.size, LANES):
        stop = min(start + LANES, lam.size)
        poisson_lanes(lam[start:stop], out[start:stop], keys[0], keys[1], start, 0, 0)
    return out.astype(np.int64)


@jit
def uniforms(keys: np.ndarray, paths: np.ndarray, months: np.ndarray, streams: np.ndarray,
             attempts: np.ndarray) -> np.ndarray:
    """The uniform of each (path, month, stream, attempt) (for tests)."""
    out = np.empty(paths.size)
    for i in range(paths.size):
        out[i] = uniform_at(keys[0], keys[1], counter(paths[i], months[i], streams[i])
                            + np.uint64(attempts[i]))
    return out
