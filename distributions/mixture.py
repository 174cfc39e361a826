"""The ``mixture`` family: a weighted mixture of any other distributions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from ._family import Family, Forms, Params, fmt, show, to_float
from .base import Distribution, DistributionError, FloatArray

#: How far the weights may be from summing to 1.
WEIGHT_TOL = 1e-9
_MAX_STEPS = 200
_CHECK_EVERY = 8


class Mixture(Family):
    """Draw from ``components[i]`` with probability ``weights[i]``.

    ``ppf`` inverts the mixture CDF numerically: the answer lies between the smallest and the
    largest component quantile at the same ``q``, and vectorised bisection narrows that bracket
    to a few ulps (only unconverged elements keep iterating). A mixture of discrete components
    is discrete.
    """

    name: ClassVar[str] = "mixture"
    forms: ClassVar[Forms] = Forms((("components", "weights"),))

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
    def from_params(cls, params: Params, base_dir: Path | None = None) -> Distribution:
        """Build from ``components`` (specs) and ``weights`` (>= 0, summing to 1)."""
        from .spec import parse  # spec imports this module

        cls.forms.select(cls.name, params)
        raw = params["components"]
        if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, list | tuple):
            raise DistributionError("components", f"must be a list of specs (got {show(raw)})")
        if not raw:
            raise DistributionError("components", "must list at least one distribution")
        components = []
        for i, spec in enumerate(raw):
            try:
                components.append(parse(spec, base_dir))
            except DistributionError as err:
                key = f"components[{i}]" + (f".{err.param}" if err.param else "")
                raise DistributionError(key, err.reason) from None
        return cls(components, _read_weights(params["weights"], len(components)))

    def _cdf(self, x: FloatArray) -> FloatArray:
        total = np.zeros(x.shape)
        for comp, w in zip(self._live, self._live_w, strict=True):
            total += w * comp.cdf(x)
        return total

    def _ppf(self, q: FloatArray) -> FloatArray:
        shape = q.shape
        q = q.ravel()
        quantiles = np.stack([comp.ppf(q) for comp in self._live])
        lo, hi = quantiles.min(axis=0), quantiles.max(axis=0)
        todo = np.flatnonzero(lo < hi)
        for step in range(_MAX_STEPS):
            if todo.size == 0:
                break
            a, b = lo[todo], hi[todo]
            mid = 0.5 * (a + b)
            up = self._cdf(mid) >= q[todo]
            hi[todo] = np.where(up, mid, b)
            lo[todo] = np.where(up, a, mid)
            if step % _CHECK_EVERY == _CHECK_EVERY - 1:
                a, b = lo[todo], hi[todo]
                open_ = (b - a) > 1e-15 * np.maximum(np.abs(a), np.abs(b)) + 1e-300
                todo = todo[open_]
        out = np.floor(hi) if self.discrete else hi
        return out.reshape(shape)

    def ppf(self, q: ArrayLike) -> FloatArray:
        """Inverse of the mixture CDF (vectorised bisection)."""
        return self._ppf_guarded(q, self._ppf)

    def cdf(self, x: ArrayLike) -> FloatArray:
        """``sum_i weights[i] * components[i].cdf(x)``."""
        return self._cdf(np.asarray(x, dtype=np.float64))

    def mean(self) -> float:
        """The weighted mean of the component means."""
        return float(sum(w * c.mean() for c, w in zip(self._live, self._live_w, strict=True)))

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
