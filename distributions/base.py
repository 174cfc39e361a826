"""The interface every distribution family implements, and the error it raises."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


class DistributionError(ValueError):
    """An invalid distribution spec.

    Attributes
    ----------
    param : str
        The offending parameter (``"sd"``, ``"dist"``, ``"p95"``...), or ``""`` for the spec
        as a whole.
    reason : str
        What is wrong, with what was given and what is allowed.
    """

    def __init__(self, param: str, reason: str) -> None:
        self.param = param
        self.reason = reason
        super().__init__(f"{param}: {reason}" if param else reason)


class Distribution(ABC):
    """A univariate distribution drawn through its inverse CDF.

    Every family maps uniforms in [0, 1] to values with :meth:`ppf`; samplers (random, LHS,
    Sobol, copulas) only ever produce uniforms, so any design works with any family.
    """

    #: True for families whose values are integers (poisson, ...).
    discrete: bool = False

    @abstractmethod
    def ppf(self, q: ArrayLike) -> FloatArray:
        """Inverse CDF, vectorised over ``q`` in [0, 1]."""

    @abstractmethod
    def cdf(self, x: ArrayLike) -> FloatArray:
        """CDF, vectorised over ``x``."""

    @abstractmethod
    def mean(self) -> float:
        """The mean of the distribution."""

    @abstractmethod
    def support(self) -> tuple[float, float]:
        """The closed interval (low, high) that holds every value (may be infinite)."""

    @property
    def is_constant(self) -> bool:
        """True when every draw is the same value."""
        low, high = self.support()
        return low == high

    def sample(self, size: int | tuple[int, ...], rng: np.random.Generator) -> FloatArray:
        """Draw ``size`` values with the generator ``rng`` (inverse-CDF sampling)."""
        return self.ppf(rng.random(size))

    def describe(self) -> str:
        """A short human-readable description, e.g. ``beta(alpha=12, beta=3)``."""
        return repr(self)

    def _ppf_guarded(self, q: ArrayLike, inner: Callable[[FloatArray], FloatArray]) -> FloatArray:
        """Apply ``inner`` to the ``q`` strictly inside (0, 1).

        ``q = 0`` and ``q = 1`` map to the ends of :meth:`support` (possibly infinite), and
        ``q`` outside [0, 1] or NaN maps to NaN. The result is a float64 array shaped like ``q``.
        """
        qa = np.asarray(q, dtype=np.float64)
        inside = (qa > 0.0) & (qa < 1.0)
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            if inside.all():
                return np.asarray(inner(qa), dtype=np.float64).reshape(qa.shape)
            values = inner(qa[inside])
        low, high = self.support()
        out = np.full(qa.shape, np.nan)
        out[inside] = values
        out[qa == 0.0] = low
        out[qa == 1.0] = high
        return out
