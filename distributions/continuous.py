"""Continuous families with several parameter forms and optional truncation.

``normal``, ``lognormal``, ``beta`` and ``gamma`` accept their natural parameters, a mean and
standard deviation (except normal, whose natural parameters are those), or two quantiles.
Optional ``low``/``high`` truncate by inverse CDF on the truncated range, never by clipping:
the other parameters describe the parent distribution before truncation
(:mod:`distributions.truncated`).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from . import quantiles as fit
from ._family import Family, Form, Forms, Params, number
from .base import Distribution, FloatArray
from .beta_inverse import beta_ppf
from .truncated import truncate

_TRUNCATION = ("low", "high")
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def beta_logpdf(alpha: float, beta: float, u: FloatArray) -> FloatArray:
    """The log-density of ``Beta(alpha, beta)`` at ``u`` (``-inf`` outside [0, 1])."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = (u >= 0.0) & (u <= 1.0)
        out = special.xlogy(alpha - 1.0, u) + special.xlog1py(beta - 1.0, -u)
        out = np.where(inside, out - special.betaln(alpha, beta), -np.inf)
    return np.where(np.isnan(u), np.nan, out)


class Continuous(Family):
    """A continuous family given by ``scipy.special`` functions; can be truncated.

    Subclasses implement ``_cdf``, ``_sf``, ``_ppf``, ``_isf``, ``_logpdf`` (on float arrays,
    ``q`` in [0, 1]), ``_partial_mean``, ``_partial_second`` and ``_from_form``, and may
    override ``_origin`` and ``_truncated_scipy`` (what :class:`Truncated` needs).
    """

    @classmethod
    def from_params(cls, params: Params) -> Distribution:
        """Build from one parameter form, truncated when ``low``/``high`` are given."""
        form = cls.forms.select(cls.name, params)
        return truncate(cls._from_form(form, params), params)

    @classmethod
    @abstractmethod
    def _from_form(cls, form: Form, params: Params) -> Continuous:
        """Build the untruncated distribution from the selected form."""

    @abstractmethod
    def _cdf(self, x: FloatArray) -> FloatArray: ...

    @abstractmethod
    def _sf(self, x: FloatArray) -> FloatArray: ...

    @abstractmethod
    def _ppf(self, q: FloatArray) -> FloatArray: ...

    @abstractmethod
    def _isf(self, q: FloatArray) -> FloatArray: ...

    @abstractmethod
    def _logpdf(self, x: FloatArray) -> FloatArray: ...

    @abstractmethod
    def _partial_mean(self, a: float, b: float) -> float:
        """``E[X; a < X < b]``, the mean restricted to ``(a, b)`` times its probability."""

    def _origin(self) -> float:
        """The point :meth:`_partial_second` is taken about."""
        return 0.0

    @abstractmethod
    def _partial_second(self, a: float, b: float) -> tuple[float, float]:
        """``E[(X - o)**2; a < X < b]`` about ``o = self._origin()``, and the size of the
        largest term summed to get it (its rounding error is about 1e-16 times that)."""

    def _truncated_scipy(self, low: float, high: float) -> Any:
        """The frozen scipy distribution of this one truncated to ``[low, high]``."""
        raise NotImplementedError(
            f"scipy.stats has no truncated {self.name} (it has truncnorm for the normal only)"
        )

    def mass(self, a: float, b: float) -> float:
        """``P(a < X < b)``, from the CDF or, in the upper tail, from the survival function."""
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            fa = float(self._cdf(np.asarray(a, dtype=np.float64)))
            if fa > 0.5:
                sfs = self._sf(np.array([a, b], dtype=np.float64))
                return float(sfs[0] - sfs[1])
            return float(self._cdf(np.asarray(b, dtype=np.float64))) - fa

    def ppf(self, q: ArrayLike) -> FloatArray:
        """Inverse CDF."""
        return self._ppf_guarded(q, self._ppf)

    def cdf(self, x: ArrayLike) -> FloatArray:
        """CDF."""
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            return np.asarray(self._cdf(np.asarray(x, dtype=np.float64)), dtype=np.float64)

    def logpdf(self, x: ArrayLike) -> FloatArray:
        """Log-density (``-inf`` outside the support)."""
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            return np.asarray(self._logpdf(np.asarray(x, dtype=np.float64)), dtype=np.float64)


class Normal(Continuous):
    """Normal with ``mean`` and standard deviation ``sd``."""

    name: ClassVar[str] = "normal"
    forms: ClassVar[Forms] = Forms((("mean", "sd"),), optional=_TRUNCATION, quantiles=True)

    def __init__(self, mean: float, sd: float) -> None:
        self.mu, self.sd = float(mean), float(sd)

    @classmethod
    def _from_form(cls, form: Form, params: Params) -> Continuous:
        if form.quantiles is not None:
            return cls(*fit.normal_from_quantiles(form.quantiles))
        return cls(number(params, "mean"), number(params, "sd", gt=0.0))

    def _cdf(self, x: FloatArray) -> FloatArray:
        return special.ndtr((x - self.mu) / self.sd)

    def _sf(self, x: FloatArray) -> FloatArray:
        return special.ndtr((self.mu - x) / self.sd)

    def _ppf(self, q: FloatArray) -> FloatArray:
        return self.mu + self.sd * special.ndtri(q)

    def _isf(self, q: FloatArray) -> FloatArray:
        return self.mu - self.sd * special.ndtri(q)

    def _partial_mean(self, a: float, b: float) -> float:
        def pdf(x: float) -> float:
            z = (x - self.mu) / self.sd
            return math.exp(-0.5 * z * z) / _SQRT_2PI if math.isfinite(z) else 0.0

        return self.mu * self.mass(a, b) + self.sd * (pdf(a) - pdf(b))

    def _logpdf(self, x: FloatArray) -> FloatArray:
        z = (x - self.mu) / self.sd
        return -0.5 * z * z - math.log(self.sd) - _LOG_SQRT_2PI

    def _origin(self) -> float:
        return self.mu

    def _partial_second(self, a: float, b: float) -> tuple[float, float]:
        def z_pdf(x: float) -> float:  # z phi(z), 0 at infinite z
            z = (x - self.mu) / self.sd
            return z * math.exp(-0.5 * z * z) / _SQRT_2PI if math.isfinite(z) else 0.0

        mass, za, zb = self.mass(a, b), z_pdf(a), z_pdf(b)
        return self.sd**2 * (mass + za - zb), self.sd**2 * max(mass, abs(za), abs(zb))

    def _truncated_scipy(self, low: float, high: float) -> Any:
        from scipy import stats

        a, b = (low - self.mu) / self.sd, (high - self.mu) / self.sd
        return stats.truncnorm(a, b, loc=self.mu, scale=self.sd)

    def mean(self) -> float:
        """``mean``."""
        return self.mu

    def var(self) -> float:
        """``sd**2``."""
        return self.sd**2

    def to_scipy(self) -> Any:
        """``scipy.stats.norm(mean, sd)``."""
        from scipy import stats

        return stats.norm(self.mu, self.sd)

    def support(self) -> tuple[float, float]:
        """``(-inf, inf)``."""
        return -math.inf, math.inf

    def _items(self) -> list[tuple[str, object]]:
        return [("mean", self.mu), ("sd", self.sd)]


class Lognormal(Continuous):
    """Lognormal: ``exp(N(mu, sigma))``."""

    name: ClassVar[str] = "lognormal"
    forms: ClassVar[Forms] = Forms(
        (("mu", "sigma"), ("mean", "sd")), optional=_TRUNCATION, quantiles=True
    )

    def __init__(self, mu: float, sigma: float) -> None:
        self.mu, self.sigma = float(mu), float(sigma)

    @classmethod
    def _from_form(cls, form: Form, params: Params) -> Continuous:
        if form.quantiles is not None:
            return cls(*fit.lognormal_from_quantiles(form.quantiles))
        if form.row == ("mean", "sd"):
            mean, sd = number(params, "mean", gt=0.0), number(params, "sd", gt=0.0)
            return cls(*fit.lognormal_from_moments(mean, sd))
        return cls(number(params, "mu"), number(params, "sigma", gt=0.0))

    def _z(self, x: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.log(np.maximum(x, 0.0)) - self.mu) / self.sigma

    def _cdf(self, x: FloatArray) -> FloatArray:
        return np.where(np.isnan(x), np.nan, special.ndtr(self._z(x)))

    def _sf(self, x: FloatArray) -> FloatArray:
        return np.where(np.isnan(x), np.nan, special.ndtr(-self._z(x)))

    def _ppf(self, q: FloatArray) -> FloatArray:
        return np.exp(self.mu + self.sigma * special.ndtri(q))

    def _isf(self, q: FloatArray) -> FloatArray:
        return np.exp(self.mu - self.sigma * special.ndtri(q))

    def _partial_mean(self, a: float, b: float) -> float:
        shifted = Lognormal(self.mu + self.sigma**2, self.sigma)
        return self.mean() * shifted.mass(a, b)

    def _logpdf(self, x: FloatArray) -> FloatArray:
        z = self._z(x)
        out = -0.5 * z * z - math.log(self.sigma) - np.log(x) - _LOG_SQRT_2PI
        return np.where(x > 0.0, out, np.where(np.isnan(x), np.nan, -np.inf))

    def _partial_second(self, a: float, b: float) -> tuple[float, float]:
        shifted = Lognormal(self.mu + 2.0 * self.sigma**2, self.sigma)
        second = float(np.exp(2.0 * (self.mu + self.sigma**2))) * shifted.mass(a, b)
        return second, second

    def mean(self) -> float:
        """``exp(mu + sigma**2 / 2)`` (``inf`` when that overflows)."""
        with np.errstate(over="ignore"):
            return float(np.exp(self.mu + 0.5 * self.sigma**2))

    def var(self) -> float:
        """``(exp(sigma**2) - 1) exp(2 mu + sigma**2)`` (``inf`` when that overflows)."""
        with np.errstate(over="ignore"):
            return float(np.expm1(self.sigma**2) * np.exp(2.0 * self.mu + self.sigma**2))

    def to_scipy(self) -> Any:
        """``scipy.stats.lognorm(sigma, scale=exp(mu))``."""
        from scipy import stats

        return stats.lognorm(self.sigma, scale=math.exp(self.mu))

    def support(self) -> tuple[float, float]:
        """``(0, inf)``."""
        return 0.0, math.inf

    def _items(self) -> list[tuple[str, object]]:
        return [("mu", self.mu), ("sigma", self.sigma)]


class Beta(Continuous):
    """Beta on ``[0, 1]`` with shapes ``alpha`` and ``beta``."""

    name: ClassVar[str] = "beta"
    forms: ClassVar[Forms] = Forms(
        (("alpha", "beta"), ("mean", "sd")), optional=_TRUNCATION, quantiles=True
    )

    def __init__(self, alpha: float, beta: float) -> None:
        self.alpha, self.beta = float(alpha), float(beta)

    @classmethod
    def _from_form(cls, form: Form, params: Params) -> Continuous:
        if form.quantiles is not None:
            return cls(*fit.beta_from_quantiles(form.quantiles))
        if form.row == ("mean", "sd"):
            mean = number(params, "mean", gt=0.0, lt=1.0)
            return cls(*fit.beta_from_moments(mean, number(params, "sd", gt=0.0)))
        return cls(number(params, "alpha", gt=0.0), number(params, "beta", gt=0.0))

    def _cdf(self, x: FloatArray) -> FloatArray:
        return special.betainc(self.alpha, self.beta, np.clip(x, 0.0, 1.0))

    def _sf(self, x: FloatArray) -> FloatArray:
        return special.betaincc(self.alpha, self.beta, np.clip(x, 0.0, 1.0))

    def _ppf(self, q: FloatArray) -> FloatArray:
        return beta_ppf(self.alpha, self.beta, q)

    def _isf(self, q: FloatArray) -> FloatArray:
        return special.betainccinv(self.alpha, self.beta, q)

    def _partial_mean(self, a: float, b: float) -> float:
        return self.mean() * Beta(self.alpha + 1.0, self.beta).mass(a, b)

    def _logpdf(self, x: FloatArray) -> FloatArray:
        return beta_logpdf(self.alpha, self.beta, x)

    def _partial_second(self, a: float, b: float) -> tuple[float, float]:
        total = self.alpha + self.beta
        second = self.mean() * (self.alpha + 1.0) / (total + 1.0)
        second *= Beta(self.alpha + 2.0, self.beta).mass(a, b)
        return second, second

    def mean(self) -> float:
        """``alpha / (alpha + beta)``."""
        return self.alpha / (self.alpha + self.beta)

    def var(self) -> float:
        """``alpha beta / ((alpha + beta)**2 (alpha + beta + 1))``."""
        total = self.alpha + self.beta
        return self.alpha * self.beta / (total * total * (total + 1.0))

    def to_scipy(self) -> Any:
        """``scipy.stats.beta(alpha, beta)``."""
        from scipy import stats

        return stats.beta(self.alpha, self.beta)

    def support(self) -> tuple[float, float]:
        """``(0, 1)``."""
        return 0.0, 1.0

    def _items(self) -> list[tuple[str, object]]:
        return [("alpha", self.alpha), ("beta", self.beta)]


class Gamma(Continuous):
    """Gamma with ``shape`` and ``scale`` (mean ``shape * scale``)."""

    name: ClassVar[str] = "gamma"
    forms: ClassVar[Forms] = Forms(
        (("shape", "scale"), ("mean", "sd")), optional=_TRUNCATION, quantiles=True
    )

    def __init__(self, shape: float, scale: float) -> None:
        self.shape, self.scale = float(shape), float(scale)

    @classmethod
    def _from_form(cls, form: Form, params: Params) -> Continuous:
        if form.quantiles is not None:
            return cls(*fit.gamma_from_quantiles(form.quantiles))
        if form.row == ("mean", "sd"):
            mean, sd = number(params, "mean", gt=0.0), number(params, "sd", gt=0.0)
            return cls(*fit.gamma_from_moments(mean, sd))
        return cls(number(params, "shape", gt=0.0), number(params, "scale", gt=0.0))

    def _cdf(self, x: FloatArray) -> FloatArray:
        return special.gammainc(self.shape, np.maximum(x, 0.0) / self.scale)

    def _sf(self, x: FloatArray) -> FloatArray:
        return special.gammaincc(self.shape, np.maximum(x, 0.0) / self.scale)

    def _ppf(self, q: FloatArray) -> FloatArray:
        return self.scale * special.gammaincinv(self.shape, q)

    def _isf(self, q: FloatArray) -> FloatArray:
        return self.scale * special.gammainccinv(self.shape, q)

    def _partial_mean(self, a: float, b: float) -> float:
        return self.mean() * Gamma(self.shape + 1.0, self.scale).mass(a, b)

    def _logpdf(self, x: FloatArray) -> FloatArray:
        y = np.maximum(x, 0.0) / self.scale
        out = special.xlogy(self.shape - 1.0, y) - y
        out = out - special.gammaln(self.shape) - math.log(self.scale)
        inside = (x >= 0.0) & (x < np.inf)
        return np.where(inside, out, np.where(np.isnan(x), np.nan, -np.inf))

    def _partial_second(self, a: float, b: float) -> tuple[float, float]:
        second = self.shape * (self.shape + 1.0) * self.scale**2
        second *= Gamma(self.shape + 2.0, self.scale).mass(a, b)
        return second, second

    def mean(self) -> float:
        """``shape * scale``."""
        return self.shape * self.scale

    def var(self) -> float:
        """``shape * scale**2``."""
        return self.shape * self.scale**2

    def to_scipy(self) -> Any:
        """``scipy.stats.gamma(shape, scale=scale)``."""
        from scipy import stats

        return stats.gamma(self.shape, scale=self.scale)

    def support(self) -> tuple[float, float]:
        """``(0, inf)``."""
        return 0.0, math.inf

    def _items(self) -> list[tuple[str, object]]:
        return [("shape", self.shape), ("scale", self.scale)]
