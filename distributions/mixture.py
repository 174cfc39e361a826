"""The ``mixture`` family: a weighted mixture of any other distributions."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ._family import Family, Forms, Params, fmt, show, to_float
from .base import Distribution, DistributionError, FloatArray

#: How far the weights may be from summing to 1.
WEIGHT_TOL = 1e-9
#: Probability levels (logit-spaced) at which component quantiles seed the CDF table.
_GRID_LEVELS, _LOGIT_REACH = 8193, 37.0
#: Iteration limits: regula falsi first, then plain bisection (which always terminates).
_SECANT_STEPS, _MAX_STEPS = 40, 1200
#: Convergence: relative bracket width, or cdf within this share of min(q, 1 - q) of q.
_XTOL, _FTOL = 1e-13, 1e-13
#: Largest integer range tabulated for discrete mixtures.
_MAX_TABLE = 2**22


class Mixture(Family):
    """Draw from ``components[i]`` with probability ``weights[i]``.

    ``ppf`` inverts the mixture CDF numerically: the CDF is tabulated at the components'
    quantiles, which brackets each answer, and Illinois regula falsi (then bisection) narrows
    the bracket until ``x`` is within 1e-13 relative or ``cdf(x)`` is within round-off of
    ``q``. The answer always lies between the smallest and the largest component quantile at
    the same ``q``. A mixture of discrete components is discrete and is inverted exactly on a
    table of its CDF at the integers.
    """

    name: ClassVar[str] = "mixture"
    forms: ClassVar[Forms] = Forms((("components", "weights"),))
    nested: ClassVar[tuple[str, ...]] = ("components",)

    def __init__(self, components: Sequence[Distribution], weights: Sequence[float]) -> None:
        self.components = list(components)
        self.weights = np.asarray(weights, dtype=np.float64)
        if len(self.components) != self.weights.size or not self.components:
            raise DistributionError("weights", "needs one weight per component")
        live = self.weights > 0.0
        self._live = [c for c, keep in zip(self.components, live, strict=True) if keep]
        self._live_w = self.weights[live]
        self.discrete = all(c.discrete for c in self._live)

    @classmethod
    def from_params(cls, params: Params) -> Distribution:
        """Build from ``components`` (distributions: :func:`distributions.parse` builds them
        from the specs) and ``weights`` (>= 0, summing to 1)."""
        cls.forms.select(cls.name, params)
        components = params["components"]
        if not (
            isinstance(components, list | tuple)
            and components
            and all(isinstance(c, Distribution) for c in components)
        ):
            raise DistributionError(
                "components", f"must be a non-empty list of distributions (got {show(components)})"
            )
        return cls(components, _read_weights(params["weights"], len(components)))

    def _cdf(self, x: FloatArray) -> FloatArray:
        total = np.zeros(x.shape)
        for comp, w in zip(self._live, self._live_w, strict=True):
            total += w * comp.cdf(x)
        return total

    def _ppf(self, q: FloatArray) -> FloatArray:
        shape, q = q.shape, q.ravel()
        if len(self._live) == 1:
            out = self._live[0].ppf(q)
        elif self.discrete:
            out = self._ppf_discrete(q)
        else:
            out = self._ppf_continuous(q)
        return out.reshape(shape)

    def _ppf_discrete(self, q: FloatArray) -> FloatArray:
        """Smallest integer ``k`` with ``cdf(k) >= q``, from a table of the mixture CDF."""
        ends = [(float(c.ppf(q.min())), float(c.ppf(q.max()))) for c in self._live]
        kmin, kmax = min(lo for lo, _ in ends), max(hi for _, hi in ends)
        if kmax - kmin > _MAX_TABLE:
            return np.floor(self._invert(q, *self._bracket(q)))
        ks = np.arange(kmin, kmax + 1.0)
        return kmin + np.searchsorted(self._cdf(ks), q, side="left").astype(np.float64)

    def _ppf_continuous(self, q: FloatArray) -> FloatArray:
        """Invert the CDF tabulated at the components' quantiles, then refine."""
        levels = special.expit(np.linspace(-_LOGIT_REACH, _LOGIT_REACH, _GRID_LEVELS))
        with np.errstate(over="ignore"):
            grid = np.unique(np.concatenate([c.ppf(levels) for c in self._live]))
        grid = grid[np.isfinite(grid)]
        fgrid = self._cdf(grid)
        j = np.clip(np.searchsorted(fgrid, q, side="left"), 1, grid.size - 1)
        lo, hi, flo, fhi = grid[j - 1], grid[j], fgrid[j - 1], fgrid[j]
        outside = (flo >= q) | (fhi < q)  # beyond the table's ends
        if outside.any():
            olo, ohi = self._bracket(q[outside])
            lo[outside] = np.where(flo[outside] >= q[outside], olo, lo[outside])
            hi[outside] = np.where(fhi[outside] < q[outside], ohi, hi[outside])
            flo[outside], fhi[outside] = self._cdf(lo[outside]), self._cdf(hi[outside])
        return self._invert(q, lo, hi, flo, fhi)

    def _bracket(self, q: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The smallest and largest component quantiles: the mixture's lies between them."""
        quantiles = np.stack([c.ppf(q) for c in self._live])
        return quantiles.min(axis=0), quantiles.max(axis=0)

    def _invert(
        self,
        q: FloatArray,
        lo: FloatArray,
        hi: FloatArray,
        flo: FloatArray | None = None,
        fhi: FloatArray | None = None,
    ) -> FloatArray:
        """``inf {x in [lo, hi]: cdf(x) >= q}`` by Illinois regula falsi, then bisection.

        ``lo`` and ``hi`` bracket the answer: ``cdf(hi) >= q`` and nothing below ``lo``
        qualifies; ``flo``/``fhi`` are their CDFs when known. Only unconverged elements keep
        iterating.
        """
        a, b = lo.copy(), hi.copy()
        fa = (self._cdf(a) if flo is None else flo) - q
        fb = (self._cdf(b) if fhi is None else fhi) - q
        b = np.where(fa >= 0.0, a, b)  # lo itself qualifies
        todo = np.flatnonzero(b > a)
        side = np.zeros(q.size, dtype=np.int8)
        ftol = _FTOL * np.minimum(q, 1.0 - q) + 2e-16
        for step in range(_MAX_STEPS):
            if todo.size == 0:
                break
            ta, tb, tfa, tfb = a[todo], b[todo], fa[todo], fb[todo]
            mid = 0.5 * (ta + tb)
            if step < _SECANT_STEPS:
                with np.errstate(all="ignore"):
                    c = tb - tfb * (tb - ta) / (tfb - tfa)
                c = np.where((c > ta) & (c < tb), c, mid)
            else:
                c = mid
            fc = self._cdf(c) - q[todo]
            right = fc >= 0.0
            tside = side[todo]
            b[todo], fb[todo] = np.where(right, c, tb), np.where(right, fc, tfb)
            a[todo], fa[todo] = np.where(right, ta, c), np.where(right, tfa, fc)
            fa[todo] *= np.where(right & (tside == 1), 0.5, 1.0)  # Illinois: halve the stale end
            fb[todo] *= np.where(~right & (tside == -1), 0.5, 1.0)
            side[todo] = np.where(right, 1, -1)
            hit = np.abs(fc) <= ftol[todo]  # cdf(c) equals q to round-off: c is the answer
            b[todo[hit]] = c[hit]
            ta, tb = a[todo], b[todo]
            wide = (tb - ta) > _XTOL * np.maximum(np.abs(ta), np.abs(tb)) + 1e-300
            todo = todo[wide & ~hit]
        return b

    def ppf(self, q: ArrayLike) -> FloatArray:
        """Inverse of the mixture CDF (vectorised bisection)."""
        return self._ppf_guarded(q, self._ppf)

    def cdf(self, x: ArrayLike) -> FloatArray:
        """``sum_i weights[i] * components[i].cdf(x)``."""
        return self._cdf(np.asarray(x, dtype=np.float64))

    def mean(self) -> float:
        """The weighted mean of the component means."""
        return float(sum(w * c.mean() for c, w in zip(self._live, self._live_w, strict=True)))

    def var(self) -> float:
        """``sum_i weights[i] * (var_i + (mean_i - mean)**2)`` (the law of total variance)."""
        m = self.mean()
        pairs = zip(self._live, self._live_w, strict=True)
        return float(sum(w * (c.var() + (c.mean() - m) ** 2) for c, w in pairs))

    def _log_mix(self, x: ArrayLike, part: Callable[[Distribution], FloatArray], what: str
                 ) -> FloatArray:
        """``log sum_i weights[i] * exp(part(components[i]))``."""
        try:
            logs = [math.log(w) + part(c) for c, w in zip(self._live, self._live_w, strict=True)]
        except TypeError:
            raise TypeError(
                f"{self.describe()} has no {what}: not every weighted component has one"
            ) from None
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(special.logsumexp(np.stack(logs), axis=0), dtype=np.float64)

    def logpdf(self, x: ArrayLike) -> FloatArray:
        """Log of ``sum_i weights[i] * components[i].pdf(x)`` (every component continuous)."""
        xa = np.asarray(x, dtype=np.float64)
        return self._log_mix(xa, lambda c: c.logpdf(xa), "probability density")

    def logpmf(self, x: ArrayLike) -> FloatArray:
        """Log of ``sum_i weights[i] * components[i].pmf(x)`` (no component continuous)."""
        xa = np.asarray(x, dtype=np.float64)
        return self._log_mix(xa, lambda c: c.logpmf(xa), "probability mass function")

    def support(self) -> tuple[float, float]:
        """From the lowest to the highest end of the weighted components' supports."""
        ends = [c.support() for c in self._live]
        return min(lo for lo, _ in ends), max(hi for _, hi in ends)

    def _items(self) -> list[tuple[str, object]]:
        parts = ", ".join(c.describe() for c in self.components)
        return [("components", f"[{parts}]"), ("weights", f"[{', '.join(map(fmt, self.weights))}]")]


def _read_weights(raw: object, count: int) -> list[float]:
    if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, list | tuple):
        raise DistributionError("weights", f"must be a list of numbers (got {show(raw)})")
    if len(raw) != count:
        raise DistributionError(
            "weights", f"needs one weight per component ({count} components, got {len(raw)})"
        )
    weights = []
    for i, item in enumerate(raw):
        try:
            w = to_float("weights", item)
        except DistributionError as err:
            raise DistributionError("weights", f"item {i}: {err.reason}") from None
        if w < 0.0:
            raise DistributionError("weights", f"must all be >= 0 (item {i} is {fmt(w)})")
        weights.append(w)
    total = sum(weights)
    if abs(total - 1.0) > WEIGHT_TOL:
        raise DistributionError("weights", f"must sum to 1 (got sum {total:.12g})")
    return weights
