"""``--scale KEY=FACTOR``: an input multiplied by a factor, whatever its distribution.

>>> import distributions
>>> s = Scaled(distributions.parse({"dist": "uniform", "low": 2, "high": 4}), 0.5)
>>> s.describe(), s.mean(), s.support()
('0.5 x uniform(low=2, high=4)', 1.5, (1.0, 2.0))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from distributions import Distribution
from distributions.base import FloatArray


@dataclass(frozen=True)
class Scale:
    """An override that multiplies the value written at its key (``spec``, filled in when it
    is applied) by ``factor``."""

    factor: float
    spec: Any = None

    def written(self) -> dict[str, Any]:
        """What the config holds, for the assumptions table and JSON."""
        return {"scale": self.factor, "of": self.spec}


class Scaled(Distribution):
    """``factor * X`` for a distribution ``X`` (factor >= 0): the same quantiles, scaled, so
    correlations, LHS and Sobol designs act on it as on ``X``."""

    def __init__(self, parent: Distribution, factor: float) -> None:
        self.parent = parent
        self.factor = float(factor)
        self.discrete = parent.discrete and self.factor == int(self.factor)

    def ppf(self, q: ArrayLike) -> FloatArray:
        return np.asarray(self.factor * self.parent.ppf(q), dtype=np.float64)

    def cdf(self, x: ArrayLike) -> FloatArray:
        xa = np.asarray(x, dtype=np.float64)
        if self.factor == 0:
            return np.where(xa >= 0, 1.0, 0.0)
        return self.parent.cdf(xa / self.factor)

    def mean(self) -> float:
        return self.factor * self.parent.mean()

    def var(self) -> float:
        return self.factor**2 * self.parent.var()

    def support(self) -> tuple[float, float]:
        low, high = self.parent.support()
        return (self.factor * low, self.factor * high) if self.factor else (0.0, 0.0)

    def describe(self) -> str:
        return f"{self.factor:g} x {self.parent.describe()}"

    def __repr__(self) -> str:
        return self.describe()
