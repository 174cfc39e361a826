"""The compiled inverse of the regularized incomplete beta function (numba, the ``fast`` extra).

Two tables of exact values per ``(alpha, beta)`` (from ``betaincinv``, with their first and
second derivatives), each read by quintic Hermite interpolation, on every core:

- central: ``x`` against ``q`` itself, 1,024 intervals of width 1/1024: about 8 ns a value;
- everywhere else: ``q`` goes to its normal score ``z`` (Wichura's AS241, accurate to about
  1e-16), then to ``logit(x)`` on 1,024 intervals of ``z`` in [-8, 8], then to ``x``: about
  25 ns a value.

No Newton step is needed where a table is exact enough: when a shape pair's tables are built,
each interval is checked against ``betaincinv`` (at its midpoint, through the same path the
values take, for ``logit(x)``; at a quarter, half and three quarters for ``x``), and the
check's error plus a bound on what rounding can add must stay below :data:`TOLERANCE`: 1e-14
in ``logit(x)``, which bounds the relative error of both ``x`` and ``1 - x``, and half that
relative to the smaller of the two for the central table. The other
intervals (the ends of the central one, tiny shapes, where ``x`` moves much faster than ``z``,
and the far tails) give a starting point for the NumPy Newton step of
:mod:`distributions.beta_inverse` (:data:`NEWTON`) or are left to ``betaincinv``
(:data:`SCIPY`, and every ``q`` beyond the normal scores' [-8, 8]).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from scipy import special

from ._compiled import jit, on_main_thread
from .base import FloatArray

prange: Any
try:
    from numba import prange
except ImportError:  # without numba this module still imports (doctests) and is never used
    prange = range

SPAN = 8.0  # the table covers normal scores in [-SPAN, SPAN]
NODES = 1025
STEP = 2.0 * SPAN / (NODES - 1)
CENTRAL = 1024  # the table in q has intervals of 1/CENTRAL
TABLE, NEWTON, SCIPY = 0, 1, 2  # how a value in an interval is finished
TOLERANCE = 1e-14  # bound on the error in logit(x) of a value finished by the table alone
START = 1e-9  # bound on the error in logit(x) of a Newton step's starting point
PARALLEL_BLOCK = 4096  # values per thread in the parallel evaluation
_EPS = float(np.finfo(np.float64).eps)
_LOG_ROOT_2PI = 0.5 * math.log(2.0 * math.pi)

# Wichura (1988), Algorithm AS 241 (PPND16): central region, then the tails
_A = (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
      1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
      3.3430575583588128105e4, 2.5090809287301226727e3)
_B = (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
      2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
      5.2264952788528545610e3)
_C = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
      3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
      2.27238449892691845833e-2, 7.74545014278341407640e-4)
_D = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
      1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
      1.05075007164441684324e-9)
_E = (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
      2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
      2.71155556874348757815e-5, 2.01033439929228813265e-7)
_F = (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
      7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
      2.04426310338993978564e-15)
_RATIONALS = np.array([_A, _B, _C, _D, _E, _F])


@jit(inline="always")
def _rational(coefficients: FloatArray, row: int, r: float) -> float:
    num = coefficients[row, 7]
    den = coefficients[row + 1, 7]
    for k in range(6, -1, -1):
        num = num * r + coefficients[row, k]
        den = den * r + coefficients[row + 1, k]
    return float(num / den)


@jit(inline="always")
def ndtri(p: float, coefficients: FloatArray) -> float:
    """The standard normal quantile of ``p`` in (0, 1) (AS241)."""
    q = p - 0.5
    if abs(q) <= 0.425:
        return q * _rational(coefficients, 0, 0.180625 - q * q)
    r = math.sqrt(-math.log(p if q < 0.0 else 1.0 - p))
    if r <= 5.0:
        value = _rational(coefficients, 2, r - 1.6)
    else:
        value = _rational(coefficients, 4, r - 5.0)
    return -value if q < 0.0 else value


@jit(parallel=True)
def normal_quantiles(q: FloatArray, rationals: FloatArray) -> FloatArray:
    """:func:`ndtri` of each value of ``q`` (in (0, 1)); for tests."""
    out = np.empty_like(q)
    for i in prange(q.size):
        out[i] = ndtri(q[i], rationals)
    return out


@jit(nogil=True)
def _evaluate_range(q: FloatArray, coef: FloatArray, kind: np.ndarray, central: FloatArray,
                    central_kind: np.ndarray, rationals: FloatArray, out: FloatArray,
                    finish: np.ndarray, start: int, stop: int) -> None:
    """``x`` where a table alone is exact (``finish`` TABLE), else ``logit(x)``'s estimate
    (``finish`` NEWTON) or nothing usable (``finish`` SCIPY), for ``q[start:stop]``."""
    for i in range(start, stop):
        p = q[i]
        how = SCIPY
        value = math.nan
        if 0.0 < p < 1.0:
            position = p * CENTRAL
            j = int(position)
            if central_kind[j] == TABLE:  # x itself, in q: no normal score, no exp
                t = position - j
                out[i] = central[j, 0] + t * (central[j, 1] + t * (central[j, 2] + t * (
                    central[j, 3] + t * (central[j, 4] + t * central[j, 5]))))
                finish[i] = TABLE
                continue
            position = (ndtri(p, rationals) + SPAN) / STEP
            if 0.0 <= position < NODES - 1:
                j = int(position)
                t = position - j
                value = coef[j, 0] + t * (coef[j, 1] + t * (coef[j, 2] + t * (
                    coef[j, 3] + t * (coef[j, 4] + t * coef[j, 5]))))
                how = kind[j]
                if how == TABLE:
                    e = math.exp(-abs(value))
                    value = (1.0 if value >= 0.0 else e) / (1.0 + e)
        out[i] = value
        finish[i] = how


@jit(parallel=True)
def _evaluate_parallel(q: FloatArray, coef: FloatArray, kind: np.ndarray, central: FloatArray,
                       central_kind: np.ndarray, rationals: FloatArray, out: FloatArray,
                       finish: np.ndarray) -> None:
    """:func:`_evaluate_range` over all of ``q``, by blocks on every core."""
    block = PARALLEL_BLOCK
    for b in prange((q.size + block - 1) // block):
        _evaluate_range(q, coef, kind, central, central_kind, rationals, out, finish,
                        b * block, min(q.size, (b + 1) * block))


def _evaluate(*args: Any) -> None:
    """On every core from the main thread; serially from any other (numba's parallel
    loops are safe to enter from one thread at a time only, whatever its threading layer;
    the callers' threads give the parallelism there), and for one block of values or fewer
    (the engine's blocks of paths: starting the threads would cost more than it saves)."""
    if on_main_thread() and args[0].size > PARALLEL_BLOCK:
        _evaluate_parallel(*args)
    else:
        _evaluate_range(*args, 0, args[0].size)


def _sides(alpha: float, beta: float, p: FloatArray, c: FloatArray
           ) -> tuple[FloatArray, FloatArray]:
    """``x`` and ``1 - x`` with ``I_x(alpha, beta) = p = 1 - c``, each to full precision: the
    smaller of ``x`` and ``1 - x`` is solved for, from the smaller of ``p`` and ``c``."""
    with np.errstate(all="ignore"):
        lower = p <= special.betainc(alpha, beta, 0.5)
        x = np.where(p <= 0.5, special.betaincinv(alpha, beta, p),
                     special.betainccinv(alpha, beta, c))
        y = np.where(c <= 0.5, special.betaincinv(beta, alpha, c),
                     special.betainccinv(beta, alpha, p))
    return np.where(lower, x, 1.0 - y), np.where(lower, 1.0 - x, y)


def _quintic(f: FloatArray, d: FloatArray, e: FloatArray) -> FloatArray:
    """Each interval's quintic in ``t`` from the values ``f`` at the nodes and the first and
    second derivatives ``d``, ``e`` (scaled to an interval of length 1)."""
    f0, f1, d0, d1, e0, e1 = f[:-1], f[1:], d[:-1], d[1:], e[:-1], e[1:]
    rise = f1 - f0
    return np.column_stack([
        f0, d0, 0.5 * e0,
        10.0 * rise - 6.0 * d0 - 4.0 * d1 - 1.5 * e0 + 0.5 * e1,
        -15.0 * rise + 8.0 * d0 + 7.0 * d1 + 1.5 * e0 - e1,
        6.0 * rise - 3.0 * d0 - 3.0 * d1 - 0.5 * e0 + 0.5 * e1])


@functools.lru_cache(maxsize=64)  # 106 kB each
def table(alpha: float, beta: float) -> tuple[FloatArray, np.ndarray, FloatArray, np.ndarray]:
    """The tables' quintics in ``t`` (six coefficients an interval) and how each interval's
    values are finished: ``logit(x)`` in normal scores, then ``x`` in ``q`` (central)."""
    z = np.linspace(-SPAN, SPAN, NODES)
    x, y = _sides(alpha, beta, special.ndtr(z), special.ndtr(-z))
    log_beta = special.betaln(alpha, beta)
    with np.errstate(all="ignore"):
        log_x, log_y = np.log(x), np.log(y)
        logit = log_x - log_y
        # d logit / dz = phi(z) / (x (1 - x) pdf(x)); its derivative follows from dx/dz
        slope = np.exp(-0.5 * z * z - _LOG_ROOT_2PI + log_beta - alpha * log_x - beta * log_y)
        curve = slope * (-z - slope * (alpha * y - beta * x))
        coef = _quintic(logit, STEP * slope, STEP**2 * curve)
    finite = np.isfinite(logit) & np.isfinite(slope) & np.isfinite(curve) & (x > 0) & (y > 0)
    usable = finite[:-1] & finite[1:] & np.isfinite(coef).all(axis=1)
    coef[~usable] = 0.0
    # the check: each interval's midpoint, through the path a value takes
    q = special.ndtr(z[:-1] + 0.5 * STEP)
    estimate = np.empty_like(q)
    _evaluate(q, coef, np.full(q.size, NEWTON, np.int8), np.zeros((CENTRAL, 6)),
              np.full(CENTRAL, SCIPY, np.int8), _RATIONALS, estimate, np.empty(q.size, np.int8))
    x_mid, y_mid = _sides(alpha, beta, q, 1.0 - q)
    with np.errstate(all="ignore"):
        error = np.abs(estimate - (np.log(x_mid) - np.log(y_mid)))
        # what the rounding of z (a few ulps) and of logit(x) can add anywhere in the interval
        reach = np.maximum(np.abs(z[:-1]), np.abs(z[1:])) + 1.0
        rounding = (4.0 * _EPS * np.maximum(slope[:-1], slope[1:]) * reach
                    + _EPS * np.maximum(np.abs(logit[:-1]), np.abs(logit[1:])))
        kind = np.where(usable & (error + rounding <= TOLERANCE), TABLE,
                        np.where(usable & (error <= START), NEWTON, SCIPY)).astype(np.int8)
    central, central_kind = _central(alpha, beta, log_beta)
    for array in (coef, kind, central, central_kind):
        array.setflags(write=False)
    return coef, kind, central, central_kind


def _central(alpha: float, beta: float, log_beta: float) -> tuple[FloatArray, np.ndarray]:
    """``x`` against ``q`` itself, on intervals of ``1/CENTRAL``: the intervals where, at a
    quarter, half and three quarters of the way, it agrees with ``betaincinv`` to half of
    :data:`TOLERANCE` relative to the smaller of ``x`` and ``1 - x`` (rounding included) are
    TABLE; the ends (and tiny shapes) fail and go through the normal scores."""
    q = np.arange(CENTRAL + 1) / CENTRAL
    x, y = _sides(alpha, beta, q, 1.0 - q)
    with np.errstate(all="ignore"):
        # dx/dq = 1 / pdf(x); d2x/dq2 = -(d log pdf / dx) / pdf(x)^2
        slope = np.exp(log_beta - (alpha - 1.0) * np.log(x) - (beta - 1.0) * np.log(y))
        curve = -((alpha - 1.0) / x - (beta - 1.0) / y) * slope * slope
        coef = _quintic(x, slope / CENTRAL, curve / CENTRAL**2)
        ok = np.isfinite(coef).all(axis=1) & (x[:-1] > 0) & (y[1:] > 0)
        for t in (0.25, 0.5, 0.75):
            at = (np.arange(CENTRAL) + t) / CENTRAL
            x_at, y_at = _sides(alpha, beta, at, 1.0 - at)
            value = coef[:, 0] + t * (coef[:, 1] + t * (coef[:, 2] + t * (
                coef[:, 3] + t * (coef[:, 4] + t * coef[:, 5]))))
            error = np.abs(value - x_at) + 2.0 * np.spacing(x_at)
            ok &= error <= 0.5 * TOLERANCE * np.minimum(x_at, y_at)
    coef[~ok] = 0.0
    return coef, np.where(ok, TABLE, SCIPY).astype(np.int8)


def evaluate(alpha: float, beta: float, q: FloatArray) -> tuple[FloatArray, np.ndarray]:
    """Each value of ``q`` (1-d): ``x`` where ``finish`` is :data:`TABLE`, else ``logit(x)``
    as a Newton start (:data:`NEWTON`) or nothing usable (:data:`SCIPY`)."""
    q = np.ascontiguousarray(q, dtype=np.float64)
    out = np.empty_like(q)
    finish = np.empty(q.size, np.int8)
    _evaluate(q, *table(alpha, beta), _RATIONALS, out, finish)
    return out, finish
