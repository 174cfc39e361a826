"""The inverse of the regularized incomplete beta function: fast, to full double precision.

``scipy.special.betaincinv`` takes 0.6-1.1 µs per value, the largest cost of drawing beta
and PERT inputs by inverse CDF. :func:`beta_ppf` gives the same values about three times
faster: a table of exact values at 1,025 normal scores ``z`` per ``(alpha, beta)`` (built
once, with ``betaincinv``), a cubic Hermite interpolation of ``logit(x)`` against ``z`` for
the starting point, then one Newton step on ``betainc``. A result is kept only where that
step was small enough for Newton's quadratic convergence to leave an error below about
1e-16 relative; every other value (far tails, extreme shapes) comes from ``betaincinv``.
The results agree with ``betaincinv`` to about 1e-13 relative (tested over shapes from 0.01
to 1000 and tails to 1e-100), where the two differ it is in ``betaincinv``'s last digits
as often as in these.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ._compiled import wanted
from .base import FloatArray

SPAN = 8.0  # the table covers normal scores in [-SPAN, SPAN]
NODES = 1025
_STEP = 2.0 * SPAN / (NODES - 1)
FAR_TAIL = 1e-3  # complements below this are matched with betaincc
_LOG_ROOT_2PI = 0.5 * math.log(2.0 * math.pi)


@functools.lru_cache(maxsize=512)
def _cdf_at_half(alpha: float, beta: float) -> float:
    return float(special.betainc(alpha, beta, 0.5))


@functools.lru_cache(maxsize=512)  # 25 kB each
def _table(alpha: float, beta: float) -> tuple[FloatArray, FloatArray, np.ndarray]:
    """``logit(x)`` and its slope in ``z`` at the nodes, and where both are finite."""
    z = np.linspace(-SPAN, SPAN, NODES)
    x = special.betaincinv(alpha, beta, special.ndtr(z))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_x, log_rest = np.log(x), np.log1p(-x)
        logit = log_x - log_rest
        # d logit(x) / dz = phi(z) / (x (1 - x) pdf(x)) = phi(z) B(a, b) / (x^a (1 - x)^b)
        slope = np.exp(-0.5 * z * z - _LOG_ROOT_2PI + special.betaln(alpha, beta)
                       - alpha * log_x - beta * log_rest)
    usable = np.isfinite(logit) & np.isfinite(slope) & (x > 0.0) & (x < 1.0)
    for array in (logit, slope, usable):
        array.setflags(write=False)
    return logit, slope, usable


def beta_ppf(alpha: float, beta: float, q: ArrayLike) -> FloatArray:
    """``betaincinv(alpha, beta, q)``, any shape (NaN, like it, for ``q`` outside [0, 1]).

    To keep both tails precise it solves for the smaller of ``x`` and ``1 - x`` (the
    latter with the shapes swapped) and matches the smaller of the two tail probabilities,
    each of which is exact in double precision. Arrays of 50,000 values or more take the
    compiled table of :mod:`distributions._beta_compiled` where numba is installed.

    >>> import numpy as np
    >>> from scipy import special
    >>> q = np.array([1e-9, 0.05, 0.5, 0.95, 1 - 1e-9])
    >>> exact = special.betaincinv(2.5, 40.0, q)
    >>> bool(np.all(np.abs(beta_ppf(2.5, 40.0, q) - exact) <= 1e-14 * exact))
    True
    """
    a, b = float(alpha), float(beta)
    if a == 1.0 or b == 1.0 or a == b == 0.5:  # closed forms: betaincinv is faster
        return np.asarray(special.betaincinv(a, b, q), dtype=np.float64)
    qa = np.asarray(q, dtype=np.float64)
    flat = qa.ravel()
    if wanted(flat.size):
        from ._beta_compiled import NEWTON, TABLE, evaluate

        out, finish = evaluate(a, b, flat)
        if finish.any():  # (TABLE is 0) the rest: logit(x) as a Newton start, or nothing
            rest = np.flatnonzero(finish != TABLE)
            out[rest] = _solve(a, b, flat[rest], (out[rest], finish[rest] == NEWTON))
        return out.reshape(qa.shape)
    return _solve(a, b, flat, None).reshape(qa.shape)


def _solve(a: float, b: float, flat: FloatArray,
           start: tuple[FloatArray, np.ndarray] | None) -> FloatArray:
    """Solve each value on its smaller side, from this module's cubic table (``start`` None)
    or from given estimates of ``logit(x)`` (where the mask in ``start`` is True)."""
    out = np.empty_like(flat)
    upper = flat > _cdf_at_half(a, b)  # x > 1/2: solve for 1 - x, with the shapes swapped
    for mirrored, shapes in ((False, (a, b)), (True, (b, a))):
        part = upper if mirrored else ~upper
        q_part = flat[part]
        p = 1.0 - q_part if mirrored else q_part  # the solved variable's cdf
        # p > 1/2 goes in as its complement 1 - p, which is exact: 1 - q or q itself
        complement = p > 0.5
        tail = np.where(complement, q_part if mirrored else 1.0 - q_part, p)
        if start is None:
            u, ok = _start(*shapes, tail, complement)
        else:
            logit, ok = start[0][part], start[1][part]
            u = special.expit(-logit if mirrored else logit)
        solved = _newton(*shapes, tail, complement, u, ok)
        out[part] = 1.0 - solved if mirrored else solved
    return out


def _start(alpha: float, beta: float, tail: FloatArray, complement: np.ndarray
           ) -> tuple[FloatArray, np.ndarray]:
    """The cubic table's estimate of ``u`` with ``I_u(alpha, beta) = tail`` (or ``1 - tail``
    where ``complement``), and where the table had one."""
    logit, slope, usable = _table(alpha, beta)
    z = special.ndtri(tail)
    z[complement] = -z[complement]
    position = (z + SPAN) / _STEP
    inside = (position >= 0.0) & (position < NODES - 1)  # False for NaN (q outside (0, 1))
    node = np.floor(np.where(inside, position, 0.0)).astype(np.intp)
    t = position - node
    ok = inside & usable[node] & usable[node + 1]
    t2, t3 = t * t, t * t * t
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        guess = ((2.0 * t3 - 3.0 * t2 + 1.0) * logit[node]
                 + (t3 - 2.0 * t2 + t) * _STEP * slope[node]
                 + (3.0 * t2 - 2.0 * t3) * logit[node + 1] + (t3 - t2) * _STEP * slope[node + 1])
        return special.expit(guess), ok


def _newton(alpha: float, beta: float, tail: FloatArray, complement: np.ndarray,
            u: FloatArray, ok: np.ndarray) -> FloatArray:
    """One Newton step from ``u`` where ``ok``, kept where it is small enough to be exact;
    every other value from ``betaincinv`` (or ``betainccinv``)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        # I_u(alpha, beta) minus its target; a small complement needs betaincc (slow, but
        # only in the last 0.1% of the upper tail): betainc near 1 has no digits left there
        residual = np.empty_like(u)
        far = complement & (tail < FAR_TAIL)
        near = ~far
        target = np.where(complement, 1.0 - tail, tail)
        residual[near] = special.betainc(alpha, beta, u[near]) - target[near]
        residual[far] = tail[far] - special.betaincc(alpha, beta, u[far])
        log_pdf = ((alpha - 1.0) * np.log(u) + (beta - 1.0) * np.log1p(-u)
                   - special.betaln(alpha, beta))
        step = residual / np.exp(log_pdf)
        out = u - step
        # after one Newton step the relative error is about (step / u)^2 * |a - 1| / 2 near
        # 0 (and likewise near 1): keep the steps that leave it below 1e-16
        tolerance = math.sqrt(2e-16 / max(1.0, abs(alpha - 1.0), abs(beta - 1.0)))
        ok &= np.abs(step) <= tolerance * np.minimum(u, 1.0 - u)
        ok &= (out > 0.0) & (out < 1.0)
    redo = ~ok
    if redo.any():
        direct = redo & ~complement
        out[direct] = special.betaincinv(alpha, beta, tail[direct])
        flipped = redo & complement
        out[flipped] = special.betainccinv(alpha, beta, tail[flipped])
    return out
