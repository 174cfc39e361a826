"""How counts move: drawn (binomial flows) or replaced by their expectations (expected flows).

Every random flow draws from its own named stream (per block), so a flow's draws do not depend
on which other flows a config has.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from distributions.joint import SeedLike, stream

from ..config.errors import ConfigError
from .params import Value

#: The largest count binomial flows draw: an expected monthly arrival count (a Poisson mean)
#: or a count being thinned (customers facing churn). Counts are int64 and are summed over
#: stages, channels and months, so they must stay well below 2**63 ~ 9.2e18 (NumPy's
#: Poisson refuses means above about that); checking each month keeps every sum in range.
MAX_COUNT = 1e17

#: PCG64's jump (``PCG64.jumped``): the golden ratio times 2**128, odd.
_JUMP = 0x9E3779B97F4A7C15F39CC0605CEDC835


class Flows(ABC):
    """How counts move between stages: drawn (binomial) or expected."""

    integer_counts = False

    @abstractmethod
    def arrivals(self, mean: np.ndarray, rate: Value, key: str = ""
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Visitors in a month with the given mean, and how many of them pass the first
        stage with probability ``rate``."""

    @abstractmethod
    def arrive(self, key: str, mean: np.ndarray) -> np.ndarray:
        """Units arriving straight at a stage (a channel entering below the top)."""

    @abstractmethod
    def allocate(self, key: str, queues: list[np.ndarray], worked: np.ndarray
                 ) -> list[np.ndarray]:
        """Split ``worked`` units among ``queues`` (drawn without replacement)."""

    @abstractmethod
    def split(self, key: str, count: np.ndarray, shares: np.ndarray) -> list[np.ndarray]:
        """Split ``count`` by ``shares`` (summing to 1): multinomially, or in expectation."""

    @abstractmethod
    def cascade(self, key: str, mean: np.ndarray, rates: Sequence[Value],
                stages: Sequence[str], month: int, upper: bool = True) -> list[np.ndarray]:
        """Units arriving in ``month`` with the given mean (Poisson under binomial flows)
        and then passing each of ``stages`` in turn with probability ``rates``: the
        arrivals, then the count that reaches each stage. With ``upper`` False only the
        count reaching the last stage is needed (the others may be left at 0)."""

    @abstractmethod
    def delay(self, key: str, count: np.ndarray, pmf: np.ndarray) -> np.ndarray:
        """Spread ``count`` over delays 0, 1, ... months with probabilities ``pmf`` (which
        may sum to less than 1: the rest arrives after the horizon); shape (n, len(pmf))."""

    @abstractmethod
    def thin(self, key: str, count: np.ndarray, rate: Value) -> np.ndarray:
        """How many of ``count`` units pass a step with probability ``rate``."""


class ExpectedFlows(Flows):
    """Every draw replaced by its expectation (real-valued counts)."""

    def arrivals(self, mean: np.ndarray, rate: Value, key: str = ""
                 ) -> tuple[np.ndarray, np.ndarray]:
        return mean, mean * rate

    def arrive(self, key: str, mean: np.ndarray) -> np.ndarray:
        return mean

    def cascade(self, key: str, mean: np.ndarray, rates: Sequence[Value],
                stages: Sequence[str], month: int, upper: bool = True) -> list[np.ndarray]:
        counts = [mean]
        for rate in rates:
            counts.append(counts[-1] * rate)
        return counts

    def delay(self, key: str, count: np.ndarray, pmf: np.ndarray) -> np.ndarray:
        return np.asarray(count, dtype=np.float64)[:, None] * pmf

    def split(self, key: str, count: np.ndarray, shares: np.ndarray) -> list[np.ndarray]:
        return [np.asarray(count, dtype=np.float64) * s for s in shares]

    def allocate(self, key: str, queues: list[np.ndarray], worked: np.ndarray
                 ) -> list[np.ndarray]:
        total = sum(queues, np.zeros_like(worked))
        share = np.divide(worked, total, out=np.zeros_like(worked, dtype=float), where=total > 0)
        return [q * share for q in queues]

    def thin(self, key: str, count: np.ndarray, rate: Value) -> np.ndarray:
        return count * rate


class BinomialFlows(Flows):
    """Poisson arrivals and binomial thinning, each step from its own named stream.

    Arrivals use Poisson splitting, an exact identity: if visitors ~ Poisson(m) and each
    passes the first stage with probability r, the passing count ~ Poisson(m r) and the rest
    ~ Poisson(m (1 - r)) are independent. Drawing the two Poissons gives exactly the joint
    law of (visitors, first stage) of docs/model.md and is cheaper than a binomial on
    thousands of visitors. :meth:`cascade` carries the identity down the funnel when nothing
    joins or holds the units on the way: the units stopping short of each stage and those
    reaching the last are independent Poissons, one cheap draw per stage instead of a
    binomial. Counts stay int64 during the month loop.

    The units stopping short of each stage are drawn from month-addressed streams: month
    ``t`` starts where ``PCG64.jumped(t)`` would (``t`` times a golden-ratio step of about
    0.618 * 2**128 into the stream; a power-of-two step would leave the low half of the
    states equal and the months' draws correlated). A month's counts therefore do not depend
    on whether earlier months' were drawn: a run that keeps only some months can skip them
    and still give the same numbers at the months it keeps.
    """

    integer_counts = True

    def __init__(self, seed: SeedLike, block: int) -> None:
        self._seed = seed
        self._block = block
        self._streams: dict[str, np.random.Generator] = {}
        self._starts: dict[str, Mapping[str, Any]] = {}  # initial states of monthly streams

    def _rng(self, key: str) -> np.random.Generator:
        if key not in self._streams:
            self._streams[key] = stream(self._seed, "flow", key, self._block)
        return self._streams[key]

    def _monthly(self, key: str, month: int) -> np.random.Generator:
        """The stream of ``key`` positioned at the start of ``month``'s draws."""
        rng = self._rng(key)
        if key not in self._starts:
            self._starts[key] = rng.bit_generator.state
        rng.bit_generator.state = self._starts[key]
        rng.bit_generator.advance(month * _JUMP % 2**128)  # type: ignore[attr-defined]
        return rng

    def arrivals(self, mean: np.ndarray, rate: Value, key: str = ""
                 ) -> tuple[np.ndarray, np.ndarray]:
        _countable(mean)
        passed = self._poisson(self._rng(key + "first stage"), mean * rate)
        return passed + self._poisson(self._rng(key + "visitors"), mean * (1.0 - rate)), passed

    def arrive(self, key: str, mean: np.ndarray) -> np.ndarray:
        return self._poisson(self._rng(key), _countable(mean))

    def cascade(self, key: str, mean: np.ndarray, rates: Sequence[Value],
                stages: Sequence[str], month: int, upper: bool = True) -> list[np.ndarray]:
        """Poisson splitting through every stage: the units that stop short of each stage
        and the units that reach the last are independent Poisson counts; each stage's
        count is the sum of those that got at least that far. Without ``upper`` only the
        last count is drawn (independent of the others, it has the same law and value)."""
        stops = []
        reach: Value = _countable(mean)
        for rate, stage in zip(rates, stages, strict=True):
            if upper:
                stops.append(self._poisson(self._monthly(f"{key}short of {stage}", month),
                                           reach * (1.0 - rate)))
            reach = reach * rate
        counts = [self._poisson(self._rng(f"{key}reached {stages[-1]}" if stages else key),
                                reach)]
        if not upper:
            return [np.zeros_like(counts[0]) for _ in stages] + counts
        for stop in reversed(stops):
            counts.append(counts[-1] + stop)
        return counts[::-1]

    def split(self, key: str, count: np.ndarray, shares: np.ndarray) -> list[np.ndarray]:
        parts = self._multinomial(self._rng(key), np.asarray(count, dtype=np.int64),
                                  shares / shares.sum())
        return list(parts.T)

    def allocate(self, key: str, queues: list[np.ndarray], worked: np.ndarray
                 ) -> list[np.ndarray]:
        """A multivariate hypergeometric draw, as successive hypergeometric draws."""
        rng = self._rng(key)
        queues = [np.asarray(q, dtype=np.int64) for q in queues]
        left = sum(queues, np.zeros(len(worked), dtype=np.int64))
        sample = np.asarray(worked, dtype=np.int64)
        out = []
        for queue in queues[:-1]:
            take = self._hypergeometric(rng, queue, left - queue, sample)
            out.append(take)
            sample = sample - take
            left = left - queue
        out.append(sample)
        return out

    def delay(self, key: str, count: np.ndarray, pmf: np.ndarray) -> np.ndarray:
        rest = max(0.0, 1.0 - float(pmf.sum()))
        pvals = np.append(pmf, rest) / (float(pmf.sum()) + rest)
        return self._multinomial(self._rng(key), count, pvals)[:, :-1]

    def thin(self, key: str, count: np.ndarray, rate: Value) -> np.ndarray:
        return self._binomial(self._rng(key), _countable(count), rate)

    # the samplers: NumPy's here, by inversion in :class:`~simulator.model.inversion.InversionFlows`

    def _poisson(self, rng: np.random.Generator, mean: Value) -> np.ndarray:
        return rng.poisson(mean)

    def _binomial(self, rng: np.random.Generator, n: np.ndarray, p: Value) -> np.ndarray:
        return rng.binomial(n, p)

    def _multinomial(self, rng: np.random.Generator, n: np.ndarray, pvals: np.ndarray
                     ) -> np.ndarray:
        return rng.multinomial(n, pvals)

    def _hypergeometric(self, rng: np.random.Generator, good: np.ndarray, bad: np.ndarray,
                        sample: np.ndarray) -> np.ndarray:
        return rng.hypergeometric(good, bad, sample)


def _countable(count: np.ndarray) -> np.ndarray:
    """``count`` (a count or an expected count), checked to be one binomial flows can draw
    exactly (at most :data:`MAX_COUNT`): a run whose volume explodes gets one clear error,
    not NumPy's, and int64 sums never wrap around."""
    top = float(np.max(count)) if np.size(count) else 0.0
    if not top <= MAX_COUNT:  # NaN too
        raise too_many(top)
    return count


def too_many(top: float) -> ConfigError:
    """The error of a monthly count ``top`` beyond :data:`MAX_COUNT` (either kernel)."""
    return ConfigError("simulation.flows", f"a monthly count reaches {top:.3g}, more than "
                       f"binomial flows draw exactly ({MAX_COUNT:.0e}): the volume grows "
                       f"too fast for the horizon; use flows = \"expected\" or lower the "
                       f"growth, the volume or the months")
