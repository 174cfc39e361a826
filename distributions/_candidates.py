"""The candidate families of :func:`distributions.fitting.fit`: their maximum-likelihood
fitters (``scipy.stats``) and the data each can describe."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._family import show
from .base import FloatArray

Spec = dict[str, Any]
#: What a candidate's fitter returns: the spec parameters (without ``dist``), the frozen
#: scipy distribution they describe, and its log-likelihood function (logpdf or logpmf).
Fitted = tuple[Spec, Any, Callable[[FloatArray], FloatArray]]


@dataclass(frozen=True)
class Candidate:
    k: int
    fitter: Callable[[FloatArray], Fitted]
    problem: Callable[[FloatArray], str | None] = lambda x: None


def _positive(x: FloatArray) -> str | None:
    low = float(x.min())
    return None if low > 0.0 else f"needs values > 0 (got {show(low)})"


def _unit(x: FloatArray) -> str | None:
    low, high = float(x.min()), float(x.max())
    if low <= 0.0:
        return f"needs values strictly inside (0, 1) (got {show(low)})"
    if high >= 1.0:
        return f"needs values strictly inside (0, 1) (got {show(high)})"
    return None


def _counts(x: FloatArray) -> str | None:
    bad = x[(x < 0.0) | (x != np.floor(x))]
    if bad.size:
        what = "a negative value" if bad[0] < 0.0 else "a non-integer"
        return f"needs non-negative integer values (got {show(float(bad[0]))}, {what})"
    return None


def _normal(x: FloatArray) -> Fitted:
    from scipy import stats
    loc, scale = stats.norm.fit(x)
    d = stats.norm(loc, scale)
    return {"mean": float(loc), "sd": float(scale)}, d, d.logpdf


def _lognormal(x: FloatArray) -> Fitted:
    from scipy import stats
    s, _, scale = stats.lognorm.fit(x, floc=0.0)
    d = stats.lognorm(s, scale=scale)
    return {"mu": math.log(scale), "sigma": float(s)}, d, d.logpdf


def _gamma(x: FloatArray) -> Fitted:
    from scipy import stats
    a, _, scale = stats.gamma.fit(x, floc=0.0)
    d = stats.gamma(a, scale=scale)
    return {"shape": float(a), "scale": float(scale)}, d, d.logpdf


def _beta(x: FloatArray) -> Fitted:
    from scipy import stats
    a, b, _, _ = stats.beta.fit(x, floc=0.0, fscale=1.0)
    d = stats.beta(a, b)
    return {"alpha": float(a), "beta": float(b)}, d, d.logpdf


def _poisson(x: FloatArray) -> Fitted:
    from scipy import stats
    lam = float(x.mean())  # the maximum-likelihood estimate, in closed form
    d = stats.poisson(lam)
    return {"lam": lam}, d, d.logpmf


def _uniform(x: FloatArray) -> Fitted:
    from scipy import stats
    loc, scale = stats.uniform.fit(x)
    d = stats.uniform(loc, scale)
    return {"low": float(loc), "high": float(loc + scale)}, d, d.logpdf


def _triangular(x: FloatArray) -> Fitted:
    from scipy import stats
    c, loc, scale = stats.triang.fit(x)
    d = stats.triang(c, loc, scale)
    spec = {"low": float(loc), "mode": float(loc + c * scale), "high": float(loc + scale)}
    return spec, d, d.logpdf


#: Every candidate by name, in the order used to break AIC ties.
CANDIDATES: dict[str, Candidate] = {
    "normal": Candidate(2, _normal),
    "lognormal": Candidate(2, _lognormal, _positive),
    "gamma": Candidate(2, _gamma, _positive),
    "beta": Candidate(2, _beta, _unit),
    "poisson": Candidate(1, _poisson, _counts),
    "uniform": Candidate(2, _uniform),
    "triangular": Candidate(3, _triangular),
}
BOUNDED = ("uniform", "triangular")
DISCRETE = ("poisson",)


def interval_mass(frozen: Any, x: FloatArray) -> FloatArray:
    """``P(x - 0.5 < X < x + 0.5)`` under a frozen continuous scipy distribution, from the
    survival function above the median so the upper tail keeps its precision."""
    upper = x > frozen.median()
    below = frozen.cdf(x + 0.5) - frozen.cdf(x - 0.5)
    above = frozen.sf(x - 0.5) - frozen.sf(x + 0.5)
    return np.asarray(np.where(upper, above, below), dtype=np.float64)


def ks_counts(x: FloatArray, cdf: Callable[[FloatArray], FloatArray]) -> float:
    """``sup |F_n - F|`` for integer data and an integer-valued ``F``.

    Both step functions jump only at integers, so the supremum is reached at an observed
    value ``u`` or just before it, at ``u - 1``. (``scipy.stats.kstest`` assumes a
    continuous ``F`` and overstates the distance at tied values.)
    """
    xs = np.sort(x)
    points = np.unique(np.concatenate([xs, xs - 1.0]))
    ecdf = np.searchsorted(xs, points, side="right") / xs.size
    return float(np.max(np.abs(ecdf - cdf(points))))
