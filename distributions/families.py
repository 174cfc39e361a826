"""Closed-form families: constant, uniform, triangular, pert and poisson.

The scipy-backed continuous families (normal, lognormal, beta, gamma, with truncation) live in
:mod:`distributions.continuous`; ``empirical`` and ``mixture`` have their own modules.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ._family import Family, Forms, Params, check_order, fmt, number, point_masses_to_scipy
from .base import Distribution, DistributionError, FloatArray
from .beta_inverse import beta_ppf
from .continuous import beta_logpdf


class Constant(Family):
    """The same ``value`` on every draw."""

    name: ClassVar[str] = "constant"
    forms: ClassVar[Forms] = Forms((("value",),))

    def __init__(self, value: float) -> None:
        self.value = float(value)

    @classmethod
    def from_params(cls, params: Params) -> Distribution:
        """Build from ``value``."""
        cls.forms.select(cls.name, params)
        return cls(number(params, "value"))

    def ppf(self, q: ArrayLike) -> FloatArray:
        """``value`` for every ``q`` in [0, 1]."""
        return self._ppf_guarded(q, lambda p: np.full(p.shape, self.value))

    def cdf(self, x: ArrayLike) -> FloatArray:
        """0 below ``value``, 1 from ``value`` on."""
        return (np.asarray(x, dtype=np.float64) >= self.value).astype(np.float64)

    def mean(self) -> float:
        """The value."""
        return self.value

    def var(self) -> float:
        """0."""
        return 0.0

    def logpmf(self, x: ArrayLike) -> FloatArray:
        """0 at ``value``, ``-inf`` elsewhere (a point mass has no density)."""
        xa = np.asarray(x, dtype=np.float64)
        return np.where(np.isnan(xa), np.nan, np.where(xa == self.value, 0.0, -np.inf))

    def to_scipy(self) -> Any:
        """A one-point ``scipy.stats.rv_discrete`` when ``value`` is a whole number.

        Raises
        ------
        NotImplementedError
            For any other value: ``rv_discrete`` needs integer support, and scipy's
            continuous families have no point mass (a uniform of width 0 is invalid).
        """
        return point_masses_to_scipy(np.array([self.value]), np.array([1.0]), self.describe())

    def support(self) -> tuple[float, float]:
        """``(value, value)``."""
        return self.value, self.value

    def _items(self) -> list[tuple[str, object]]:
        return [("value", self.value)]


class Uniform(Family):
    """Uniform on ``[low, high]``."""

    name: ClassVar[str] = "uniform"
    forms: ClassVar[Forms] = Forms((("low", "high"),))

    def __init__(self, low: float, high: float) -> None:
        check_order(low, high)
        self.low, self.high = float(low), float(high)

    @classmethod
    def from_params(cls, params: Params) -> Distribution:
        """Build from ``low, high``."""
        cls.forms.select(cls.name, params)
        return cls(number(params, "low"), number(params, "high"))

    def ppf(self, q: ArrayLike) -> FloatArray:
        """``low + q * (high - low)``."""
        return self._ppf_guarded(
            q, lambda p: np.minimum(self.low + p * (self.high - self.low), self.high)
        )

    def cdf(self, x: ArrayLike) -> FloatArray:
        """``(x - low) / (high - low)`` clipped to [0, 1]."""
        xa = np.asarray(x, dtype=np.float64)
        return np.clip((xa - self.low) / (self.high - self.low), 0.0, 1.0)

    def mean(self) -> float:
        """``(low + high) / 2``."""
        return 0.5 * (self.low + self.high)

    def var(self) -> float:
        """``(high - low)**2 / 12``."""
        return (self.high - self.low) ** 2 / 12.0

    def logpdf(self, x: ArrayLike) -> FloatArray:
        """``-log(high - low)`` on ``[low, high]``, ``-inf`` outside."""
        xa = np.asarray(x, dtype=np.float64)
        inside = (xa >= self.low) & (xa <= self.high)
        out = np.where(inside, -math.log(self.high - self.low), -np.inf)
        return np.where(np.isnan(xa), np.nan, out)

    def to_scipy(self) -> Any:
        """``scipy.stats.uniform(low, high - low)``."""
        from scipy import stats

        return stats.uniform(self.low, self.high - self.low)

    def support(self) -> tuple[float, float]:
        """``(low, high)``."""
        return self.low, self.high

    def _items(self) -> list[tuple[str, object]]:
        return [("low", self.low), ("high", self.high)]


def _low_mode_high(params: Params) -> tuple[float, float, float]:
    low, mode, high = (number(params, k) for k in ("low", "mode", "high"))
    check_order(low, high)
    if not low <= mode <= high:
        raise DistributionError(
            "mode",
            f"must be between low and high (got low={low:.6g}, mode={mode:.6g}, high={high:.6g})",
        )
    return low, mode, high


class Triangular(Family):
    """Triangular on ``[low, high]`` with its peak at ``mode``."""

    name: ClassVar[str] = "triangular"
    forms: ClassVar[Forms] = Forms((("low", "mode", "high"),))

    def __init__(self, low: float, mode: float, high: float) -> None:
        self.low, self.mode, self.high = float(low), float(mode), float(high)
        self._width = self.high - self.low
        self._split = (self.mode - self.low) / self._width

    @classmethod
    def from_params(cls, params: Params) -> Distribution:
        """Build from ``low, mode, high``."""
        cls.forms.select(cls.name, params)
        return cls(*_low_mode_high(params))

    def _ppf(self, q: FloatArray) -> FloatArray:
        left = self.low + np.sqrt(q * self._width * (self.mode - self.low))
        right = self.high - np.sqrt((1.0 - q) * self._width * (self.high - self.mode))
        return np.clip(np.where(q < self._split, left, right), self.low, self.high)

    def ppf(self, q: ArrayLike) -> FloatArray:
        """Closed-form inverse of the piecewise-quadratic CDF."""
        return self._ppf_guarded(q, self._ppf)

    def cdf(self, x: ArrayLike) -> FloatArray:
        """Piecewise-quadratic CDF."""
        xa = np.clip(np.asarray(x, dtype=np.float64), self.low, self.high)
        with np.errstate(divide="ignore", invalid="ignore"):
            left = (xa - self.low) ** 2 / (self._width * (self.mode - self.low))
            right = 1.0 - (self.high - xa) ** 2 / (self._width * (self.high - self.mode))
        return np.where(xa <= self.mode, np.where(xa <= self.low, 0.0, left), right)

    def mean(self) -> float:
        """``(low + mode + high) / 3``."""
        return (self.low + self.mode + self.high) / 3.0

    def var(self) -> float:
        """``(w**2 - w u + u**2) / 18`` with ``w = high - low``, ``u = mode - low``."""
        w, u = self._width, self.mode - self.low
        return (w * w - w * u + u * u) / 18.0

    def logpdf(self, x: ArrayLike) -> FloatArray:
        """Log of the piecewise-linear density (``2 / (high - low)`` at the mode)."""
        xa = np.asarray(x, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            left = 2.0 * (xa - self.low) / (self._width * (self.mode - self.low))
            right = 2.0 * (self.high - xa) / (self._width * (self.high - self.mode))
            pdf = np.where(xa < self.mode, left, np.where(xa > self.mode, right, 2.0 / self._width))
            pdf = np.where((xa >= self.low) & (xa <= self.high), pdf, 0.0)
            return np.where(np.isnan(xa), np.nan, np.log(pdf))

    def to_scipy(self) -> Any:
        """``scipy.stats.triang((mode - low) / (high - low), low, high - low)``."""
        from scipy import stats

        return stats.triang(self._split, self.low, self._width)

    def support(self) -> tuple[float, float]:
        """``(low, high)``."""
        return self.low, self.high

    def _items(self) -> list[tuple[str, object]]:
        return [("low", self.low), ("mode", self.mode), ("high", self.high)]


class Pert(Family):
    """PERT: ``Beta(1 + lambda*(mode-low)/(high-low), 1 + lambda*(high-mode)/(high-low))``
    scaled to ``[low, high]``; ``lambda`` defaults to 4."""

    name: ClassVar[str] = "pert"
    forms: ClassVar[Forms] = Forms((("low", "mode", "high"),), optional=("lambda",))

    def __init__(self, low: float, mode: float, high: float, lam: float = 4.0) -> None:
        self.low, self.mode, self.high, self.lam = float(low), float(mode), float(high), lam
        self._width = self.high - self.low
        self.alpha = 1.0 + lam * (self.mode - self.low) / self._width
        self.beta = 1.0 + lam * (self.high - self.mode) / self._width

    @classmethod
    def from_params(cls, params: Params) -> Distribution:
        """Build from ``low, mode, high`` and the optional ``lambda``."""
        cls.forms.select(cls.name, params)
        low, mode, high = _low_mode_high(params)
        lam = number(params, "lambda", gt=0.0) if "lambda" in params else 4.0
        return cls(low, mode, high, lam)

    def ppf(self, q: ArrayLike) -> FloatArray:
        """Scaled inverse regularized incomplete beta function."""

        def inner(p: FloatArray) -> FloatArray:
            u = beta_ppf(self.alpha, self.beta, p)  # a new array: scaled in place
            u *= self._width
            u += self.low
            return np.clip(u, self.low, self.high, out=u)  # round-off guard

        return self._ppf_guarded(q, inner)

    def cdf(self, x: ArrayLike) -> FloatArray:
        """Regularized incomplete beta function of the scaled ``x``."""
        u = np.clip((np.asarray(x, dtype=np.float64) - self.low) / self._width, 0.0, 1.0)
        return np.asarray(special.betainc(self.alpha, self.beta, u), dtype=np.float64)

    def mean(self) -> float:
        """``(low + lambda * mode + high) / (lambda + 2)``."""
        return (self.low + self.lam * self.mode + self.high) / (self.lam + 2.0)

    def var(self) -> float:
        """The scaled beta's variance, ``(high - low)**2`` times beta's."""
        a, b = self.alpha, self.beta
        return self._width**2 * a * b / ((a + b) ** 2 * (a + b + 1.0))

    def logpdf(self, x: ArrayLike) -> FloatArray:
        """The scaled beta's log-density."""
        u = (np.asarray(x, dtype=np.float64) - self.low) / self._width
        return beta_logpdf(self.alpha, self.beta, u) - math.log(self._width)

    def to_scipy(self) -> Any:
        """``scipy.stats.beta(alpha, beta, loc=low, scale=high - low)`` (scipy has no PERT)."""
        from scipy import stats

        return stats.beta(self.alpha, self.beta, loc=self.low, scale=self._width)

    def support(self) -> tuple[float, float]:
        """``(low, high)``."""
        return self.low, self.high

    def _items(self) -> list[tuple[str, object]]:
        return [("low", self.low), ("mode", self.mode), ("high", self.high), ("lambda", self.lam)]


class Poisson(Family):
    """Poisson counts with mean ``lam`` (values are integers held in floats)."""

    name: ClassVar[str] = "poisson"
    forms: ClassVar[Forms] = Forms((("lam",),))
    discrete = True

    #: Above this mean, ppf searches from a normal approximation instead of a CDF table.
    TABLE_LIMIT: ClassVar[float] = 1e7
    #: The largest mean accepted: beyond ~2**53 consecutive integers are not floats.
    MAX_LAM: ClassVar[float] = 1e15

    def __init__(self, lam: float) -> None:
        self.lam = float(lam)
        self._table: FloatArray | None = None
        self._offset = 0.0
        if self.lam <= self.TABLE_LIMIT:
            reach = 14.0 * math.sqrt(self.lam) + 40.0
            self._offset = float(max(0, math.floor(self.lam - reach)))
            ks = np.arange(self._offset, math.ceil(self.lam + reach) + 1.0)
            self._table = np.asarray(special.pdtr(ks, self.lam))

    @classmethod
    def from_params(cls, params: Params) -> Distribution:
        """Build from ``lam`` (0 <= lam <= 1e15, so counts stay exact integers in a float)."""
        cls.forms.select(cls.name, params)
        lam = number(params, "lam", ge=0.0)
        if lam > cls.MAX_LAM:
            raise DistributionError(
                "lam", f"must be <= {fmt(cls.MAX_LAM)} (got {fmt(lam)}; counts would not be exact)"
            )
        return cls(lam)

    def _ppf(self, q: FloatArray) -> FloatArray:
        if self._table is None:
            return self._search(q)
        i = np.searchsorted(self._table, q, side="left")
        k = self._offset + i.astype(np.float64)
        off_table = (i >= self._table.size) | ((i == 0) & (self._offset > 0.0))
        if off_table.any():
            k[off_table] = self._search(q[off_table])
        return k

    def _search(self, q: FloatArray) -> FloatArray:
        """Smallest ``k`` with ``pdtr(k) >= q``: bracket a Cornish-Fisher guess, then bisect."""
        z = special.ndtri(q)
        guess = np.floor(self.lam + math.sqrt(self.lam) * z + (z * z - 1.0) / 6.0)
        width = np.full(q.shape, 2.0)
        lo, hi = np.maximum(guess - width, -1.0), np.maximum(guess + width, 0.0)
        for _ in range(80):  # widen until cdf(lo) < q <= cdf(hi); cdf(-1) = 0
            short = special.pdtr(hi, self.lam) < q
            tall = (lo >= 0.0) & (special.pdtr(np.maximum(lo, 0.0), self.lam) >= q)
            if not (short.any() or tall.any()):
                break
            hi, lo = hi + short * width, np.maximum(lo - tall * width, -1.0)
            width = 2.0 * width
        for _ in range(200):  # ~log2 of the bracket; bounded in case of float round-off
            if not (gap := hi - lo > 1.0).any():
                break
            mid = np.floor(0.5 * (lo + hi))  # >= 0 wherever gap
            ok = special.pdtr(np.maximum(mid, 0.0), self.lam) >= q
            hi, lo = np.where(gap & ok, mid, hi), np.where(gap & ~ok, mid, lo)
        return hi

    def ppf(self, q: ArrayLike) -> FloatArray:
        """The smallest integer ``k`` with ``cdf(k) >= q`` (a table lookup)."""
        return self._ppf_guarded(q, self._ppf)

    def cdf(self, x: ArrayLike) -> FloatArray:
        """``P(X <= x)``."""
        xa = np.asarray(x, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            k = np.floor(np.where(np.isfinite(xa), xa, 0.0))
            out = np.where(xa < 0.0, 0.0, special.pdtr(np.maximum(k, 0.0), self.lam))
        return np.where(np.isnan(xa), np.nan, np.where(xa == np.inf, 1.0, out))

    def mean(self) -> float:
        """``lam``."""
        return self.lam

    def var(self) -> float:
        """``lam``."""
        return self.lam

    def logpmf(self, x: ArrayLike) -> FloatArray:
        """``k log(lam) - log(k!) - lam`` at whole ``k >= 0``, ``-inf`` elsewhere."""
        xa = np.asarray(x, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            count = (xa >= 0.0) & (xa == np.floor(xa)) & np.isfinite(xa)
            k = np.where(count, xa, 0.0)
            out = special.xlogy(k, self.lam) - special.gammaln(k + 1.0) - self.lam
        return np.where(np.isnan(xa), np.nan, np.where(count, out, -np.inf))

    def to_scipy(self) -> Any:
        """``scipy.stats.poisson(lam)``."""
        from scipy import stats

        return stats.poisson(self.lam)

    def support(self) -> tuple[float, float]:
        """``(0, inf)``, or ``(0, 0)`` when ``lam = 0``."""
        return 0.0, (math.inf if self.lam > 0.0 else 0.0)

    def _items(self) -> list[tuple[str, object]]:
        return [("lam", self.lam)]
