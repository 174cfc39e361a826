"""Fitting parameters from two quantiles or from a mean and standard deviation.

Every quantile fit reproduces both given quantiles to 1e-6 relative (1e-9 absolute near 0)
or raises :class:`DistributionError` naming the offending ``pNN`` key.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from .base import DistributionError

#: Relative and absolute tolerance a quantile fit must meet.
REL_TOL = 1e-6
ABS_TOL = 1e-9


@dataclass(frozen=True)
class QuantilePair:
    """Two quantiles ``F(value_a) = prob_a`` and ``F(value_b) = prob_b``, ``prob_a < prob_b``.

    Attributes
    ----------
    keys : tuple of str
        The spec keys, e.g. ``("p5", "p95")``.
    probs : tuple of float
        The probabilities, e.g. ``(0.05, 0.95)``.
    values : tuple of float
        The quantile values, strictly increasing.
    """

    keys: tuple[str, str]
    probs: tuple[float, float]
    values: tuple[float, float]


def _z(pair: QuantilePair) -> tuple[float, float]:
    return float(special.ndtri(pair.probs[0])), float(special.ndtri(pair.probs[1]))


def _require_positive(pair: QuantilePair, family: str) -> None:
    if pair.values[0] <= 0.0:
        raise DistributionError(
            pair.keys[0], f"must be > 0 for {family} (got {pair.values[0]:.6g})"
        )


def check_fit(pair: QuantilePair, ppf: Callable[[float], float], family: str) -> None:
    """Raise unless ``ppf`` reproduces both quantiles of ``pair`` within tolerance."""
    for key, prob, value in zip(pair.keys, pair.probs, pair.values, strict=True):
        got = ppf(prob)
        tol = max(REL_TOL * abs(value), ABS_TOL)
        if not (math.isfinite(got) and abs(got - value) <= tol):
            raise DistributionError(
                key,
                f"no {family} distribution has {pair.keys[0]} = {pair.values[0]:.6g} and "
                f"{pair.keys[1]} = {pair.values[1]:.6g} (the closest fit gives {key} = {got:.6g})",
            )


def normal_from_quantiles(pair: QuantilePair) -> tuple[float, float]:
    """Return ``(mean, sd)`` of the normal through both quantiles (closed form)."""
    za, zb = _z(pair)
    a, b = pair.values
    sd = (b - a) / (zb - za)
    mean = a - sd * za
    if not (math.isfinite(sd) and math.isfinite(mean) and sd > 0.0):
        raise DistributionError(pair.keys[1], "the quantiles are too far apart for a normal")
    return mean, sd


def lognormal_from_quantiles(pair: QuantilePair) -> tuple[float, float]:
    """Return ``(mu, sigma)`` of the lognormal through both quantiles (closed form)."""
    _require_positive(pair, "lognormal")
    za, zb = _z(pair)
    la, lb = math.log(pair.values[0]), math.log(pair.values[1])
    sigma = (lb - la) / (zb - za)
    if sigma <= 0.0:
        raise DistributionError(pair.keys[1], "is too close to the other quantile for a lognormal")
    return la - sigma * za, sigma


def gamma_from_quantiles(pair: QuantilePair) -> tuple[float, float]:
    """Return ``(shape, scale)`` of the gamma through both quantiles.

    The ratio of two gamma quantiles depends on the shape only, so the shape is a 1-D root
    in ``log(shape)``; the scale then follows from either quantile.
    """
    _require_positive(pair, "gamma")
    pa, pb = pair.probs
    target = math.log(pair.values[1] / pair.values[0])

    def excess(t: float) -> float:
        k = math.exp(t)
        with np.errstate(all="ignore"):
            xa, xb = special.gammaincinv(k, pa), special.gammaincinv(k, pb)
            return float(np.log(xb) - np.log(xa)) - target

    lo, hi = 0.0, 0.0
    while not excess(lo) > 0.0:  # small shapes spread the quantiles apart
        lo -= 0.25
        if lo < -40.0 or not math.isfinite(excess(lo)):
            raise DistributionError(pair.keys[1], "the quantiles are too far apart for a gamma")
    while not excess(hi) < 0.0:  # large shapes pull them together
        hi += 2.0
        if hi > 70.0:
            raise DistributionError(pair.keys[1], "the quantiles are too close for a gamma")
    shape = math.exp(optimize.brentq(excess, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=500))
    scale = pair.values[0] / float(special.gammaincinv(shape, pa))
    check_fit(pair, lambda p: scale * float(special.gammaincinv(shape, p)), "gamma")
    return shape, scale


def _logit(p: float) -> float:
    p = min(max(p, 1e-300), 1.0 - 1e-16)
    return math.log(p) - math.log1p(-p)


def _beta_start(pair: QuantilePair) -> tuple[float, float]:
    """Moment-matching start: a logit-normal through the quantiles, then its mean and sd."""
    za, zb = _z(pair)
    la, lb = _logit(pair.values[0]), _logit(pair.values[1])
    s = (lb - la) / (zb - za)
    m = min(max(float(special.expit(la - s * za)), 1e-12), 1.0 - 1e-12)
    spread = m * (1.0 - m) * s * s
    k = 1.0 / spread - 1.0 if spread > 0.0 else 1e8
    k = min(max(k, 0.5), 1e8)
    return max(m * k, 1e-3), max((1.0 - m) * k, 1e-3)


def _beta_nested(pair: QuantilePair) -> tuple[float, float]:
    """Fallback: for each alpha solve beta from the lower quantile, then solve alpha."""
    a, b = pair.values
    pa, pb = pair.probs

    def beta_for(alpha: float) -> float:
        def f(t: float) -> float:
            return _logit(float(special.betainc(alpha, math.exp(t), a))) - _logit(pa)

        return math.exp(optimize.brentq(f, -40.0, 40.0, xtol=1e-13, maxiter=300))

    def g(s: float) -> float:
        alpha = math.exp(s)
        return _logit(float(special.betainc(alpha, beta_for(alpha), b))) - _logit(pb)

    grid = np.linspace(-25.0, 25.0, 51)
    values = [g(float(s)) for s in grid]
    for i in range(len(grid) - 1):
        if values[i] * values[i + 1] <= 0.0:
            s = optimize.brentq(g, float(grid[i]), float(grid[i + 1]), xtol=1e-14, maxiter=300)
            alpha = math.exp(s)
            return alpha, beta_for(alpha)
    raise ValueError("no sign change")


def beta_from_quantiles(pair: QuantilePair) -> tuple[float, float]:
    """Return ``(alpha, beta)`` of the beta through both quantiles (2-D root solve)."""
    for key, value in zip(pair.keys, pair.values, strict=True):
        if not 0.0 < value < 1.0:
            raise DistributionError(key, f"must be in (0, 1) for beta (got {value:.6g})")
    a, b = pair.values
    targets = np.array([_logit(pair.probs[0]), _logit(pair.probs[1])])

    def residual(t: np.ndarray) -> np.ndarray:
        alpha, beta = np.exp(np.clip(t, -700.0, 700.0))
        got = special.betainc(alpha, beta, np.array([a, b]))
        return np.array([_logit(float(got[0])), _logit(float(got[1]))]) - targets

    def ppf_of(alpha: float, beta: float) -> Callable[[float], float]:
        return lambda p: float(special.betaincinv(alpha, beta, p))

    starts = [_beta_start(pair), (1.0, 1.0), (0.5, 0.5), (5.0, 5.0), (50.0, 50.0)]
    last: DistributionError | None = None
    for start in starts:
        for method in ("hybr", "lm"):
            with np.errstate(all="ignore"):
                sol = optimize.root(residual, np.log(start), method=method, tol=1e-14)
                alpha, beta = (float(v) for v in np.exp(sol.x))
            if not (math.isfinite(alpha) and math.isfinite(beta)):
                continue
            try:
                check_fit(pair, ppf_of(alpha, beta), "beta")
            except DistributionError as err:
                last = err
                continue
            return alpha, beta
    try:
        with np.errstate(all="ignore"):
            alpha, beta = _beta_nested(pair)
        check_fit(pair, ppf_of(alpha, beta), "beta")
        return alpha, beta
    except (ValueError, RuntimeError, OverflowError) as err:
        if isinstance(err, DistributionError):
            raise
        raise last or DistributionError(
            pair.keys[1], "no beta distribution has these two quantiles"
        ) from err


def lognormal_from_moments(mean: float, sd: float) -> tuple[float, float]:
    """Return ``(mu, sigma)`` of the lognormal with this mean and standard deviation."""
    ratio = sd / mean
    if ratio > 1.0:  # log(1 + r**2) without overflow
        sigma2 = 2.0 * math.log(ratio) + math.log1p(ratio**-2)
    else:
        sigma2 = math.log1p(ratio * ratio)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)


def beta_from_moments(mean: float, sd: float) -> tuple[float, float]:
    """Return ``(alpha, beta)`` with this mean and sd; needs ``sd**2 < mean * (1 - mean)``."""
    limit = mean * (1.0 - mean)
    if not sd * sd < limit:
        raise DistributionError(
            "sd",
            f"is too large for a beta with mean {mean:.6g} (got {sd:.6g}; "
            f"must be < sqrt(mean * (1 - mean)) = {math.sqrt(limit):.6g})",
        )
    k = limit / sd / sd - 1.0
    if not math.isfinite(k):
        raise DistributionError("sd", f"is too small to represent as a beta (got {sd:.6g})")
    return mean * k, (1.0 - mean) * k


def gamma_from_moments(mean: float, sd: float) -> tuple[float, float]:
    """Return ``(shape, scale)`` of the gamma with this mean and standard deviation."""
    shape, scale = (mean / sd) * (mean / sd), sd / mean * sd
    if not (math.isfinite(shape) and shape > 0.0 and math.isfinite(scale) and scale > 0.0):
        raise DistributionError("sd", f"is out of range for a gamma with mean {mean:.6g}")
    return shape, scale
