"""Truncation: a continuous family restricted to ``[low, high]`` by inverse CDF on that range."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ._family import Params, fmt, format_call, number
from .base import Distribution, DistributionError, FloatArray

if TYPE_CHECKING:
    from .continuous import Continuous

_QUADRATURE = 100_000
#: The truncated variance's closed form is used unless it keeps less than this share of the
#: second moment it is taken from (cancellation); then a quadrature over normal scores is.
_CANCELLATION = 1e-3
_SCORES = np.linspace(-38.0, 38.0, 15_201)


class Truncated(Distribution):
    """A continuous ``parent`` restricted to ``[low, high]`` by inverse CDF on that range.

    ``ppf(q) = parent.ppf(F(low) + q * (F(high) - F(low)))``. For ``q > 1/2`` the same point
    is found from the high end, ``F(high) - (1 - q) * mass``, and each end is written with the
    survival function when it lies in the parent's upper half; so far-tail ranges and ``q``
    next to 0 or 1 keep their precision (no round-off to an infinite end).
    """

    def __init__(
        self, parent: Continuous, low: float | None = None, high: float | None = None
    ) -> None:
        self.parent, self.given_low, self.given_high = parent, low, high
        plow, phigh = parent.support()
        self.low = plow if low is None else max(low, plow)
        self.high = phigh if high is None else min(high, phigh)
        self._mass = parent.mass(self.low, self.high) if self.low < self.high else 0.0
        if not self._mass > 0.0:
            key = "high" if high is not None and (low is None or high <= plow) else "low"
            raise DistributionError(
                key,
                f"the range [{fmt(low if low is not None else -math.inf)}, "
                f"{fmt(high if high is not None else math.inf)}] has zero probability under "
                f"{parent.describe()}",
            )
        bounds = np.array([self.low, self.high])
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            cdfs, sfs = parent._cdf(bounds), parent._sf(bounds)
        # Each end as (use the survival function?, its CDF or survival value).
        self._upper = bool(cdfs[0] > 0.5)
        self._start = float(sfs[0] if self._upper else cdfs[0])
        self._high_upper = bool(cdfs[1] > 0.5)
        self._end = float(sfs[1] if self._high_upper else cdfs[1])

    def _from_low(self, q: FloatArray) -> FloatArray:
        if self._upper:
            return self.parent._isf(self._start - q * self._mass)
        return self.parent._ppf(self._start + q * self._mass)

    def _from_high(self, r: FloatArray) -> FloatArray:
        """The point with probability ``r`` above it (and below ``high``)."""
        if self._high_upper:
            return self.parent._isf(self._end + r * self._mass)
        return self.parent._ppf(self._end - r * self._mass)

    def _ppf(self, q: FloatArray) -> FloatArray:
        x = np.where(q <= 0.5, self._from_low(q), self._from_high(1.0 - q))
        return np.clip(x, self.low, self.high)  # round-off guard only

    def ppf(self, q: ArrayLike) -> FloatArray:
        """Inverse CDF on the truncated range."""
        return self._ppf_guarded(q, self._ppf)

    def cdf(self, x: ArrayLike) -> FloatArray:
        """CDF of the truncated distribution."""
        xa = np.asarray(x, dtype=np.float64)
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            if self._upper:
                c = (self._start - self.parent._sf(xa)) / self._mass
            else:
                c = (self.parent._cdf(xa) - self._start) / self._mass
        return np.asarray(np.clip(c, 0.0, 1.0), dtype=np.float64)

    def mean(self) -> float:
        """The mean on the truncated range (closed form; a quadrature of ppf if that fails)."""
        with np.errstate(all="ignore"):
            m = self.parent._partial_mean(self.low, self.high) / self._mass
        if not math.isfinite(m):
            m = float(np.mean(self._ppf((np.arange(_QUADRATURE) + 0.5) / _QUADRATURE)))
        return float(np.clip(m, self.low, self.high))

    def var(self) -> float:
        """The variance on the truncated range.

        In closed form from the parent's partial second moment, unless cancellation would
        cost more than 3 digits (a range narrow against the parent's spread, or far in its
        tail); then by the trapezoidal rule over normal scores ``z`` with ``x = ppf(Phi(z))``,
        each half of the range inverted from its own end (about 1e-14 relative).
        """
        with np.errstate(all="ignore"):
            second, size = self.parent._partial_second(self.low, self.high)
            second, size = second / self._mass, max(second, size) / self._mass
            d = self.mean() - self.parent._origin()
            v = second - d * d
        if math.isfinite(v) and v > _CANCELLATION * size:
            return float(v)
        z = _SCORES
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            lower = self._from_low(special.ndtr(np.minimum(z, 0.0)))
            upper = self._from_high(special.ndtr(-np.maximum(z, 0.0)))
        x = np.clip(np.where(z <= 0.0, lower, upper), self.low, self.high)
        keep = np.isfinite(x)  # only where a far tail underflows: weights below 1e-290
        x, w = x[keep], np.exp(-0.5 * z[keep] ** 2)
        m = float(np.sum(w * x) / np.sum(w))  # its own mean: no error from mean() enters
        return float(np.sum(w * (x - m) ** 2) / np.sum(w))

    def logpdf(self, x: ArrayLike) -> FloatArray:
        """The parent's log-density less ``log(mass)`` on the range, ``-inf`` outside."""
        xa = np.asarray(x, dtype=np.float64)
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            inside = (xa >= self.low) & (xa <= self.high)
            out = np.where(inside, self.parent._logpdf(xa) - math.log(self._mass), -np.inf)
        return np.where(np.isnan(xa), np.nan, out)

    def to_scipy(self) -> Any:
        """``scipy.stats.truncnorm`` for a truncated normal.

        Raises
        ------
        NotImplementedError
            For the other families: scipy.stats has no truncated lognormal, beta or gamma.
        """
        return self.parent._truncated_scipy(self.low, self.high)

    def support(self) -> tuple[float, float]:
        """The truncated range intersected with the parent's support."""
        return self.low, self.high

    def describe(self) -> str:
        """E.g. ``normal(mean=10, sd=2, low=0)``."""
        bounds = (("low", self.given_low), ("high", self.given_high))
        items = self.parent._items() + [(k, v) for k, v in bounds if v is not None]
        return format_call(self.parent.name, items)

    def __repr__(self) -> str:
        return self.describe()


def truncate(parent: Continuous, params: Params) -> Distribution:
    """Wrap ``parent`` in :class:`Truncated` when ``params`` has ``low`` and/or ``high``."""
    low = number(params, "low") if "low" in params else None
    high = number(params, "high") if "high" in params else None
    if low is None and high is None:
        return parent
    if low is not None and high is not None and not low < high:
        raise DistributionError("high", f"must be > low (got low={fmt(low)}, high={fmt(high)})")
    return Truncated(parent, low, high)
