"""The interface every distribution family implements, and the error it raises."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
#: What :meth:`Distribution.rvs` accepts as ``random_state``.
RandomState = int | np.random.SeedSequence | np.random.BitGenerator | np.random.Generator | None


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

    Families implement :meth:`ppf`, :meth:`cdf`, :meth:`mean`, :meth:`var`, :meth:`support`
    and either :meth:`logpdf` (a density) or :meth:`logpmf` (point masses), and override
    :meth:`to_scipy` where scipy has an equivalent; ``pdf``, ``pmf``, ``std``, ``interval``
    and ``rvs`` follow from those, with scipy's semantics.
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
    def var(self) -> float:
        """The variance of the distribution."""

    @abstractmethod
    def support(self) -> tuple[float, float]:
        """The closed interval (low, high) that holds every value (may be infinite)."""

    def std(self) -> float:
        """The standard deviation, ``sqrt(var())``."""
        return float(np.sqrt(self.var()))

    def logpdf(self, x: ArrayLike) -> FloatArray:
        """Log of the probability density, vectorised over ``x`` (``-inf`` outside the support).

        Raises
        ------
        TypeError
            For a distribution without a density (``poisson``, ``constant``, unsmoothed
            ``empirical``...): like ``scipy.stats``' discrete distributions, which have no
            ``pdf``, it has :meth:`pmf` instead.
        """
        raise TypeError(f"{self.describe()} has no probability density: use pmf/logpmf")

    def pdf(self, x: ArrayLike) -> FloatArray:
        """Probability density, ``exp(logpdf(x))``; a ``TypeError`` where there is none."""
        with np.errstate(over="ignore", under="ignore"):
            return np.exp(self.logpdf(x))

    def logpmf(self, x: ArrayLike) -> FloatArray:
        """Log of the probability mass ``P(X = x)``, vectorised over ``x``.

        Raises
        ------
        TypeError
            For a distribution with a density (every ``P(X = x)`` is 0): use :meth:`pdf`.
        """
        raise TypeError(f"{self.describe()} has a probability density: use pdf/logpdf")

    def pmf(self, x: ArrayLike) -> FloatArray:
        """Probability mass ``P(X = x)``, ``exp(logpmf(x))``; a ``TypeError`` for a density."""
        with np.errstate(over="ignore", under="ignore"):
            return np.exp(self.logpmf(x))

    def interval(self, confidence: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """The equal-tail interval holding ``confidence`` of the probability (as scipy).

        ``(ppf((1 - confidence) / 2), ppf((1 + confidence) / 2))``; ``confidence = 1`` gives
        the ends of :meth:`support`.

        Raises
        ------
        ValueError
            When ``confidence`` is not in [0, 1].
        """
        c = np.asarray(confidence, dtype=np.float64)
        if not np.all((c >= 0.0) & (c <= 1.0)):
            raise ValueError(f"confidence must be in [0, 1] (got {confidence!r})")
        return self.ppf(0.5 * (1.0 - c)), self.ppf(0.5 * (1.0 + c))

    @overload
    def rvs(self, size: None = None, *, random_state: RandomState = None) -> float: ...

    @overload
    def rvs(
        self, size: int | tuple[int, ...], *, random_state: RandomState = None
    ) -> FloatArray: ...

    def rvs(
        self, size: int | tuple[int, ...] | None = None, *, random_state: RandomState = None
    ) -> float | FloatArray:
        """Random draws, scipy style: one float when ``size`` is None, else an array.

        The draws are :meth:`sample` (inverse-CDF) draws with the generator
        ``numpy.random.default_rng(random_state)``: an int seed (or a ``SeedSequence`` or
        bit generator) gives reproducible draws, a ``Generator`` is used (and advanced) as
        it is, and None seeds a fresh generator from the operating system. The global
        ``numpy.random`` state is never used, nor accepted (a ``RandomState`` is a
        ``TypeError``). Discrete values are whole numbers held in floats.
        """
        if isinstance(random_state, np.random.RandomState):
            raise TypeError("random_state must be None, an int or a numpy Generator, "
                            "not a legacy RandomState")
        rng = np.random.default_rng(random_state)
        if size is None:
            return float(self.sample(1, rng)[0])
        return self.sample(size, rng)

    def to_scipy(self) -> Any:
        """The equivalent frozen ``scipy.stats`` distribution.

        Raises
        ------
        NotImplementedError
            When ``scipy.stats`` has no equivalent (the message says why).
        """
        raise NotImplementedError(f"scipy.stats has no equivalent of {self.describe()}")

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
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            # two reductions instead of three passes and a mask (NaN fails the test)
            if qa.size == 0 or (qa.min() > 0.0 and qa.max() < 1.0):
                return np.asarray(inner(qa), dtype=np.float64).reshape(qa.shape)
            inside = (qa > 0.0) & (qa < 1.0)
            values = inner(qa[inside])
        low, high = self.support()
        out = np.full(qa.shape, np.nan)
        out[inside] = values
        out[qa == 0.0] = low
        out[qa == 1.0] = high
        return out
